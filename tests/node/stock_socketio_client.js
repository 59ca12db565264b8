// A stock socket.io-client 4.8.3 (the committed browser build, run by Node 20 with
// --experimental-websocket for a WebSocket global): connects to the gateway with
// the given token, subscribes, and prints one JSON line per received thing.
//   node --experimental-websocket stock_socketio_client.js <bundle> <url> <token|-> <events,...> <count> [since-json]
const [bundle, url, token, events, count, since] = process.argv.slice(2);
const io = require(bundle);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const options = { transports: ["websocket"], reconnection: false };
if (token !== "-") options.auth = { token };
const socket = io(url, options);
let received = 0;
const deadline = setTimeout(() => { print({ timeout: true }); process.exit(2); }, 20000);
socket.on("connect_error", (error) => { print({ connect_error: error.message }); process.exit(0); });
socket.on("connect", () => {
  const payload = { events: events.split(",") };
  if (since) payload.since = JSON.parse(since);
  socket.emit("subscribe", payload, (answer) => print({ ack: answer }));
});
socket.onAny((name, data, meta) => {
  print({ event: name, data, meta });
  if (++received >= Number(count)) { clearTimeout(deadline); socket.close(); process.exit(0); }
});
