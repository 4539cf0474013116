import http from 'node:http';

/** Placeholder until the OCI API lands: answers the API version check only. */
export function createHttpServer(): http.Server {
  return http.createServer((req, res) => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: 'not implemented yet' }] }));
  });
}
