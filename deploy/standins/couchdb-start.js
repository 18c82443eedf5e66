// pouchdb-server in memory on :5984 with the admin docker-compose.yml gives CouchDB
// (COUCHDB_USER / COUCHDB_PASSWORD): the store logs in through /_session, which needs one.
const { spawn } = require("child_process");
const http = require("http");

const user = process.env.COUCHDB_USER || "whisk_admin";
const password = process.env.COUCHDB_PASSWORD || "whisk_local_only";
const server = spawn(
  "node",
  ["/opt/pouchdb-server/node_modules/pouchdb-server/bin/pouchdb-server",
   "--in-memory", "--host", "0.0.0.0", "--port", "5984"],
  { stdio: "inherit" },
);
server.on("exit", (code) => process.exit(code ?? 1));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.kill(signal));

function setAdmin() {
  const body = JSON.stringify(password);
  const request = http.request(
    { host: "127.0.0.1", port: 5984, method: "PUT", path: `/_config/admins/${user}`,
      headers: { "Content-Type": "application/json", "Content-Length": body.length } },
    (response) => { response.resume(); console.log(`admin ${user}: HTTP ${response.statusCode}`); },
  );
  request.on("error", () => setTimeout(setAdmin, 200));
  request.end(body);
}
setTimeout(setAdmin, 300);
