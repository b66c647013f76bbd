export default function Home() {
  return (
    <main style={{ maxWidth: 640, margin: "10vh auto", padding: "0 1.5rem", lineHeight: 1.6 }}>
      <h1>Switchboard</h1>
      <p>
        The server is running: Socket.IO on <code>/socket.io/</code>, accounts on <code>/api/auth/*</code>,
        health on <code>/healthz</code>.
      </p>
      <p style={{ color: "var(--muted)" }}>
        The realtime protocol is described in <code>docs/protocol.md</code> in the repository.
      </p>
    </main>
  );
}
