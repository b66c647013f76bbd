/*
 * Switchboard's basic page for old browsers: plain ES5, no build step, no
 * framework; the Socket.IO client is the one the server serves at
 * /socket.io/socket.io.js. Signs in (the server sets the HttpOnly cookie),
 * lists rooms, reads history and sends messages. Text is always inserted as
 * text (createTextNode), never as HTML.
 */
(function () {
  "use strict";

  var socket = null;
  var roomId = null;
  var seen = {};

  function $(id) { return document.getElementById(id); }

  function showError(text) { setText($("error"), text); }

  function setStatus(text) { setText($("status"), text); }

  function setText(node, text) { node.innerHTML = ""; node.appendChild(document.createTextNode(text || "")); }

  function request(method, url, body, done) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      var json = null;
      try { json = JSON.parse(xhr.responseText); } catch (e) { json = null; }
      done(xhr.status, json, xhr);
    };
    xhr.send(body ? JSON.stringify(body) : null);
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function addMessage(m) {
    if (m.roomId !== roomId || seen[m.id]) return;
    var list = $("messages");
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 30;
    var li = document.createElement("li");
    var who = document.createElement("span");
    who.className = "who";
    who.appendChild(document.createTextNode(m.author.displayName));
    var when = document.createElement("span");
    when.className = "when";
    var d = new Date(m.createdAt);
    when.appendChild(document.createTextNode(" " + pad(d.getHours()) + ":" + pad(d.getMinutes())));
    li.appendChild(who);
    li.appendChild(when);
    // dir="auto": a right-to-left message reads right-to-left (browsers without it ignore it).
    var text = document.createElement("div");
    text.className = "text";
    text.setAttribute("dir", "auto");
    showText(text, m);
    li.appendChild(text);
    list.appendChild(li);
    seen[m.id] = text;
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  // What a message says: its body, "(edited)" after an edit, or that it was deleted, and its
  // reactions as "👍 2  🎉 1". (This page shows edits, deletions and reactions; making them is
  // the web UI's.)
  function showText(el, m) {
    el.innerHTML = "";
    el.className = m.deletedAt ? "text gone" : "text";
    el.appendChild(document.createTextNode(m.deletedAt ? "Message deleted" : m.body + (m.editedAt ? " (edited)" : "")));
    el.body = m;
    // Files sent with it: a link each, to download (this page shows no pictures inline).
    for (var f = 0; !m.deletedAt && m.attachments && f < m.attachments.length; f++) {
      var file = m.attachments[f];
      var link = document.createElement("a");
      link.className = "file";
      link.href = "/api/files/" + encodeURIComponent(file.id) + "?download";
      link.appendChild(document.createTextNode("📎 " + file.name));
      el.appendChild(document.createTextNode(" "));
      el.appendChild(link);
    }
    if (m.deletedAt) el.reactions = [];
    else if (m.reactions) el.reactions = m.reactions;
    var line = [];
    for (var i = 0; el.reactions && i < el.reactions.length; i++) line.push(el.reactions[i].emoji + " " + el.reactions[i].count);
    if (line.length) {
      var span = document.createElement("span");
      span.className = "reactions";
      span.appendChild(document.createTextNode(line.join("  ")));
      el.appendChild(span);
    }
  }

  function changeMessage(m) {
    if (m.roomId === roomId && seen[m.id]) showText(seen[m.id], m);
  }

  // One person's reaction added or removed: applying one twice is once (they are listed already, or no longer).
  function changeReaction(added) {
    return function (r) {
      var el = r.roomId === roomId && seen[r.messageId];
      if (!el) return;
      var list = el.reactions || [], found = null, at = -1, i, j;
      for (i = 0; i < list.length; i++) if (list[i].emoji === r.emoji) { found = list[i]; at = i; }
      var listed = false;
      for (j = 0; found && j < found.userIds.length; j++) if (found.userIds[j] === r.userId) listed = true;
      var next = list.slice(0);
      if (added && !listed) {
        if (found) next[at] = { emoji: r.emoji, count: found.count + 1, userIds: found.userIds.concat([r.userId]) };
        else next.push({ emoji: r.emoji, count: 1, userIds: [r.userId] });
      } else if (!added && found && (listed || found.count > found.userIds.length)) {
        var rest = [];
        for (j = 0; j < found.userIds.length; j++) if (found.userIds[j] !== r.userId) rest.push(found.userIds[j]);
        if (found.count <= 1) next.splice(at, 1);
        else next[at] = { emoji: r.emoji, count: found.count - 1, userIds: rest };
      } else return;
      var m = {}, k;
      for (k in el.body) if (el.body.hasOwnProperty(k)) m[k] = el.body[k];
      m.reactions = next;
      showText(el, m);
    };
  }

  function openRoom(id) {
    roomId = id;
    seen = {};
    $("messages").innerHTML = "";
    if (!id) return;
    socket.emit("message:history", { roomId: id, limit: 50 }, function (res) {
      if (!res.ok) return showError(res.error.message);
      for (var i = 0; i < res.messages.length; i++) addMessage(res.messages[i]);
      $("messages").scrollTop = $("messages").scrollHeight;
    });
  }

  // The room list comes in pages (nextCursor): fetch them all.
  function fetchRooms(after, rooms, done) {
    socket.emit("room:list", after ? { limit: 500, after: after } : { limit: 500 }, function (res) {
      if (!res.ok) return showError(res.error.message);
      rooms = rooms.concat(res.rooms);
      if (res.nextCursor) fetchRooms(res.nextCursor, rooms, done);
      else done(rooms);
    });
  }

  function loadRooms() {
    fetchRooms(null, [], function (rooms) {
      var select = $("room");
      var keep = roomId;
      select.innerHTML = "";
      for (var i = 0; i < rooms.length; i++) {
        var r = rooms[i];
        var option = document.createElement("option");
        option.value = r.id;
        var label = r.kind === "dm" ? (r.peer ? r.peer.displayName : "Direct message") : "# " + r.name;
        if (r.unread > 0) label += " (" + r.unread + ")";
        option.appendChild(document.createTextNode(label));
        select.appendChild(option);
      }
      if (keep) select.value = keep;
      if (select.value !== roomId || !keep) openRoom(select.value || null);
      else openRoom(keep);
    });
  }

  /*
   * socket.io-client retries transport failures by itself, but gives up after
   * the server refused the connection ("unavailable" while its database is
   * down, "too_many_connections", "rate_limited"…) or closed it on purpose.
   * Then we try again: 1 s doubling up to 30 s, each ±50%, never before the
   * server's retryAfter; back to 1 s once connected. The same rule as the web
   * UI's app/_lib/reconnect.ts: keep them in step.
   */
  var refusedAttempts = 0;
  var retryTimer = null;

  function retryDelay(attempt, retryAfterSeconds) {
    var base = Math.min(30000, 1000 * Math.pow(2, Math.min(attempt, 30)));
    var spread = base * (1 + 0.5 * (2 * Math.random() - 1));
    var floor = retryAfterSeconds * 1000 * (1 + 0.5 * Math.random());
    return Math.round(Math.max(spread, floor));
  }

  function retryAfterOf(err) {
    var after = err && err.data ? err.data.retryAfter : null;
    // At most a day: a longer hint is not real (and setTimeout fires at once past 2^31 ms).
    return typeof after === "number" && isFinite(after) && after > 0 ? Math.min(after, 86400) : 0;
  }

  function retryLater(retryAfterSeconds) {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { retryTimer = null; socket.connect(); }, retryDelay(refusedAttempts++, retryAfterSeconds));
  }

  /* Why the sign-in form is back: the same words as the web UI's app/_lib/session-notice.ts. */
  var SESSION_NOTICES = {
    signed_out: "You were signed out in another tab or on another device.",
    password_changed: "Your password was changed on another device. Sign in with the new password.",
    expired: "Your session expired. Sign in again.",
    unauthorized: "Your session has ended. Sign in again."
  };

  function stopChat() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    if (socket) socket.close();
  }

  function signInAgain(reason) {
    stopChat();
    setText($("notice"), SESSION_NOTICES.hasOwnProperty(reason) ? SESSION_NOTICES[reason] : SESSION_NOTICES.unauthorized);
    $("chat").className = "hidden";
    $("login").className = "";
  }

  /*
   * Too many sign-in attempts (429): say how long to wait, counting down, and
   * keep the button disabled until then. The same words and sources (the
   * body's error.retryAfter, else the Retry-After header) as the web UI's
   * app/_lib/wait.ts: keep them in step.
   */
  var waitTimer = null;

  function plural(n, unit) { return n + " " + unit + (n === 1 ? "" : "s"); }

  function waitText(seconds) {
    var s = Math.max(1, Math.ceil(seconds));
    if (s < 60) return plural(s, "second");
    var minutes = Math.ceil(s / 60);
    if (minutes < 60) return plural(minutes, "minute");
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    return rest === 0 ? plural(hours, "hour") : plural(hours, "hour") + " and " + plural(rest, "minute");
  }

  function retryAfterOfResponse(json, xhr) {
    var after = json && json.error ? json.error.retryAfter : null;
    if (typeof after === "number" && isFinite(after) && after > 0) return Math.ceil(after);
    var header = xhr.getResponseHeader("Retry-After");
    if (!header) return 0;
    if (/^\s*\d+\s*$/.test(header)) return parseInt(header, 10);
    var now = new Date().getTime();
    var at = Date.parse(header);
    return !isNaN(at) && at > now ? Math.ceil((at - now) / 1000) : 0;
  }

  function waitBeforeSignIn(seconds) {
    var until = new Date().getTime() + seconds * 1000;
    var error = $("error");
    // The alert is read out once; the time inside is a timer (not live), so it is not repeated every second.
    var timer = document.createElement("span");
    timer.setAttribute("role", "timer");
    timer.setAttribute("aria-live", "off");
    timer.appendChild(document.createTextNode(waitText(seconds)));
    error.innerHTML = "";
    error.appendChild(document.createTextNode("Too many attempts. Try again in "));
    error.appendChild(timer);
    error.appendChild(document.createTextNode("."));
    $("sign-in").disabled = true;
    if (waitTimer) clearInterval(waitTimer);
    waitTimer = setInterval(function () {
      var left = Math.ceil((until - new Date().getTime()) / 1000);
      if (left > 0) return setText(timer, waitText(left));
      clearInterval(waitTimer);
      waitTimer = null;
      $("sign-in").disabled = false;
      showError("");
    }, 1000);
  }

  function connect() {
    $("login").className = "hidden";
    $("chat").className = "";
    // Same origin: the cookie set at sign-in authenticates the connection.
    socket = io({ reconnectionDelay: 1000, reconnectionDelayMax: 10000, randomizationFactor: 0.5 });
    socket.on("connect", function () { refusedAttempts = 0; setStatus("Connected (" + socket.io.engine.transport.name + ")"); showError(""); loadRooms(); });
    socket.on("disconnect", function (reason) {
      setStatus("Reconnecting…");
      if (reason === "io server disconnect") retryLater(0);
    });
    socket.on("connect_error", function (err) {
      if (err && err.message === "unauthorized") return signInAgain("unauthorized");
      setStatus("Reconnecting…");
      // Still active: socket.io-client is retrying by itself. Not active: refused, so it is up to us.
      if (!socket.active) retryLater(retryAfterOf(err));
    });
    // Signed out elsewhere, password changed or token expired: the server closes the connection next.
    socket.on("session:ended", function (payload) { signInAgain(payload && payload.reason); });
    socket.on("message:new", addMessage);
    socket.on("message:updated", changeMessage);
    socket.on("message:deleted", changeMessage);
    socket.on("reaction:added", changeReaction(true));
    socket.on("reaction:removed", changeReaction(false));
    socket.on("room:joined", loadRooms);
    socket.on("room:left", loadRooms);
  }

  $("login").onsubmit = function (e) {
    if (e && e.preventDefault) e.preventDefault();
    if (waitTimer) return false;
    showError("");
    setText($("notice"), "");
    request("POST", "/api/auth/login", { username: $("username").value, password: $("password").value }, function (status, json, xhr) {
      if (status === 200) return connect();
      if (status === 0) return showError("Can't reach the server.");
      if (status === 429 || (json && json.error && json.error.code === "rate_limited")) {
        var wait = retryAfterOfResponse(json, xhr);
        return wait > 0 ? waitBeforeSignIn(wait) : showError("Too many attempts. Wait a moment and try again.");
      }
      showError(json && json.error ? (json.error.code === "invalid_credentials" ? "Wrong username or password." : json.error.message) : "Sign-in failed (" + status + ").");
    });
    return false;
  };

  $("room").onchange = function () { openRoom($("room").value); };

  $("composer").onsubmit = function (e) {
    if (e && e.preventDefault) e.preventDefault();
    var body = $("body").value;
    if (!roomId || !body.replace(/\s/g, "")) return false;
    var clientMsgId = "legacy-" + new Date().getTime() + "-" + Math.floor(Math.random() * 1e9);
    $("body").value = "";
    socket.emit("message:send", { roomId: roomId, body: body, clientMsgId: clientMsgId }, function (res) {
      if (!res.ok) { $("body").value = body; return showError(res.error.message); }
      addMessage(res.message);
    });
    return false;
  };

  $("body").onkeydown = function (e) {
    e = e || window.event;
    if ((e.keyCode === 13 || e.key === "Enter") && !e.shiftKey) {
      if (e.preventDefault) e.preventDefault();
      $("composer").onsubmit(e);
      return false;
    }
  };

  $("logout").onclick = function () {
    // Closed first: the session:ended this sign-out causes is no news to this page.
    stopChat();
    request("POST", "/api/auth/logout", null, function () { window.location.reload(); });
    return false;
  };

  // Already signed in (cookie)? Go straight to the chat.
  request("GET", "/api/auth/me", null, function (status) { if (status === 200) connect(); });
})();
