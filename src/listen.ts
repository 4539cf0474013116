/** Binding a node server to its address and naming the URL it answers on: shared by serve, embed and the debug server. */
import type { AddressInfo, Server } from 'node:net';

/** Resolves once the server listens; rejects with the listen error (EADDRINUSE, EACCES, …). */
export function listenOn(server: Server, port: number, host: string | undefined): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** `http://127.0.0.1:5000`, `https://[::1]:5443`: IPv6 hosts in brackets. */
export function urlOf(address: AddressInfo, tls: boolean): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}
