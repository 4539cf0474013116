#!/usr/bin/env node
// The machine's ceiling for an upload in Node (docs/bench.md): a bare node:http server that answers a PUT
// with 201 once it has hashed the whole body with sha256, and writes nothing. No registry can take a body in
// faster than this on the same Node and machine; bench/run.js compares stowage's pushes with it.
// Usage: node bench/ceiling-server.js [PORT] (127.0.0.1; port 0, the default, picks a free one and prints it).
import { createHash } from 'node:crypto';
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const server = http.createServer((req, res) => {
  if (req.method !== 'PUT') {
    res.writeHead(200, { 'content-length': 0 }).end();
    return;
  }
  const hash = createHash('sha256');
  req.on('data', (chunk) => hash.update(chunk));
  req.on('end', () => {
    res.writeHead(201, { 'docker-content-digest': `sha256:${hash.digest('hex')}`, 'content-length': 0 }).end();
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
