/**
 * Open-loop message load and its measurement. Every message body starts with
 * `~<send time ms>~<phase>~`: receivers find the send time in the raw frame
 * bytes (no JSON parsing), so send→receive latency and per-phase delivery
 * counts come from the same frame whatever the server wraps around the body.
 */
import { Histogram, type LatencySummary } from "./histogram";
import type { CpuReading } from "./proc";
import { monotonicMicros, type ProfileWindow } from "./profile";
import { ackOk, now, type SioClient } from "./sio";
import { cpuWindow, rss as rssOf, storedMessages, type Target } from "./targets";

const TILDE = 0x7e;
const MESSAGE_NEW = '42["message:new"';
/** Pads bodies to a typical chat line (~80 characters in all). */
export const PADDING = " the quick brown fox jumps over the lazy dog, twice over";

class PhaseStats {
  sent = 0;
  acked = 0;
  ackErrors = 0;
  firstAckError: string | null = null;
  /** Deliveries expected: one per member connection of the room, for every accepted message. */
  expected = 0;
  received = 0;
  firstSend = 0;
  lastSend = 0;
  lastAck = 0;
  lastReceive = 0;
  readonly delivery = new Histogram();
  readonly ack = new Histogram();
}

/** Counts and times every `message:new` any client receives; attach with {@link Tracker.attach}. */
export class Tracker {
  private readonly phases: PhaseStats[] = [];
  private readonly prefix: Buffer;

  /** `event`: the server event carrying the bench's messages (`message:new` unless publishing other events). */
  constructor(event = "message:new") {
    this.prefix = Buffer.from(event === "message:new" ? MESSAGE_NEW : `42${JSON.stringify([event]).slice(0, -1)}`);
  }
  /** Frames that were not ours (presence, room:joined…). */
  otherEvents = 0;
  disconnects = 0;

  readonly onEvent = (frame: Buffer, at: number): void => {
    const prefix = this.prefix;
    if (frame.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) {
      this.otherEvents += 1;
      return;
    }
    const a = frame.indexOf(TILDE, prefix.length);
    const b = frame.indexOf(TILDE, a + 1);
    const c = frame.indexOf(TILDE, b + 1);
    if (a < 0 || b < 0 || c < 0) return;
    const sentAt = Number(frame.toString("latin1", a + 1, b));
    const phase = this.phases[Number(frame.toString("latin1", b + 1, c))];
    if (!phase) return;
    phase.received += 1;
    phase.lastReceive = at;
    phase.delivery.record(at - sentAt);
  };

  attach(client: SioClient): void {
    client.onEvent = this.onEvent;
    client.onClose = () => {
      this.disconnects += 1;
    };
  }

  /** Records a delivery the caller expects (HTTP publish: one per accepted request). */
  expect(phase: number, deliveries: number): void {
    this.phases[phase]!.expected += deliveries;
  }

  newPhase(): number {
    this.phases.push(new PhaseStats());
    return this.phases.length - 1;
  }

  stats(phase: number): PhaseStats {
    return this.phases[phase]!;
  }
}

export interface Sender {
  client: SioClient;
  roomId: string;
  /** Connections subscribed to the room (deliveries expected per message). */
  members: number;
}

export interface PhaseOptions {
  target: Target;
  tracker: Tracker;
  /** Messages per second, all senders together. */
  rate: number;
  seconds: number;
  /** Chooses who sends the next message, and where. */
  pick: () => Sender;
  /** How long to wait for outstanding acks and deliveries after the last send. */
  drainMs: number;
  label: string;
}

export interface PhaseResult {
  label: string;
  offeredRate: number;
  seconds: number;
  sent: number;
  sentPerSec: number;
  acked: number;
  ackErrors: number;
  firstAckError: string | null;
  expected: number;
  received: number;
  /** Deliveries expected but not seen within the drain time (negative: duplicates). */
  lost: number;
  deliveriesPerSec: number;
  delivery: LatencySummary;
  ack: LatencySummary;
  stored: number;
  storedPerSec: number;
  cpu: CpuReading;
  rss: number;
  /** Still unacknowledged when the drain gave up. */
  unacked: number;
  disconnects: number;
  window: ProfileWindow;
}

let clientMsgSeq = 0;

/** Sends at `rate` for `seconds` (open loop, paced every 2 ms), then drains and measures. */
export async function runPhase(opts: PhaseOptions): Promise<PhaseResult> {
  const { target, tracker } = opts;
  const phase = tracker.newPhase();
  const ps = tracker.stats(phase);
  const disconnects0 = tracker.disconnects;
  const stored0 = await storedMessages(target);
  const cpu = cpuWindow(target);
  const windowStart = monotonicMicros();
  const start = now();
  ps.firstSend = start;
  const tag = `${phase}.${process.pid}`;

  const sendOne = () => {
    const s = opts.pick();
    const t = now();
    const body = `~${t.toFixed(3)}~${phase}~${PADDING}`;
    const members = s.members;
    ps.sent += 1;
    ps.expected += members;
    ps.lastSend = t;
    s.client.emitRaw(
      (ackId) => target.sendFrame(ackId, s.roomId, body, `${tag}.${++clientMsgSeq}`),
      (frame, at) => {
        ps.lastAck = at;
        ps.ack.record(at - t);
        if (ackOk(frame)) ps.acked += 1;
        else {
          ps.ackErrors += 1;
          ps.expected -= members;
          ps.firstAckError ??= frame.toString("utf8", 0, 300);
        }
      },
    );
  };

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (now() - start) / 1000;
      const end = elapsed >= opts.seconds;
      const due = Math.floor(opts.rate * Math.min(elapsed, opts.seconds)) - ps.sent;
      for (let i = 0; i < due; i++) sendOne();
      if (end) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  const sendEnd = now();
  const cpuReading = cpu.read();
  const rss = rssOf(target);

  // Drain: outstanding acks and deliveries, bounded.
  const drainUntil = now() + opts.drainMs;
  while (now() < drainUntil) {
    if (ps.acked + ps.ackErrors >= ps.sent && ps.received >= ps.expected) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const windowEnd = monotonicMicros();
  const stored = (await storedMessages(target)) - stored0;
  const sendSeconds = (sendEnd - start) / 1000;
  const deliverySpan = Math.max(sendSeconds, ((ps.lastReceive || sendEnd) - start) / 1000);
  const storeSpan = Math.max(sendSeconds, ((ps.lastAck || sendEnd) - start) / 1000);
  return {
    label: opts.label,
    offeredRate: opts.rate,
    seconds: sendSeconds,
    sent: ps.sent,
    sentPerSec: ps.sent / sendSeconds,
    acked: ps.acked,
    ackErrors: ps.ackErrors,
    firstAckError: ps.firstAckError,
    expected: ps.expected,
    received: ps.received,
    lost: ps.expected - ps.received,
    deliveriesPerSec: ps.received / deliverySpan,
    delivery: ps.delivery.summary(),
    ack: ps.ack.summary(),
    stored,
    storedPerSec: stored / storeSpan,
    cpu: cpuReading,
    rss,
    unacked: ps.sent - ps.acked - ps.ackErrors,
    disconnects: tracker.disconnects - disconnects0,
    window: { start: windowStart, end: windowEnd },
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so set-ups repeat exactly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
