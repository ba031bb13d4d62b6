/**
 * A local stand-in for the Hugging Face Hub on 127.0.0.1: `/<org>/<name>/resolve/<revision>/<file>`
 * answers 302 to `/cdn/<org>/<name>/<revision>/<file>` (as the Hub redirects to its CDN), which serves the
 * bytes with Content-Length and CORS. Unknown models, revisions or files are 404. A model whose name ends
 * in `-broken` sends half of its weights and then drops the connection.
 */
import { createServer, type Server } from 'node:http';

export interface HubServer {
  endpoint: string;
  /** Requests seen, as "METHOD path". */
  log: string[];
  close(): Promise<void>;
}

/** models: id → revision → file name → bytes. */
export async function startHub(models: Record<string, Record<string, Record<string, Uint8Array>>>): Promise<HubServer> {
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    log.push(`${req.method} ${path}`);
    res.setHeader('access-control-allow-origin', '*');
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve) {
      const [, id, rev, file] = resolve as unknown as [string, string, string, string];
      if (!models[id]?.[rev]?.[file]) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
        return;
      }
      res.writeHead(302, { location: `/cdn/${id}/${rev}/${file}` }).end();
      return;
    }
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/([^/]+)\/(.+)$/.exec(path);
    const bytes = cdn ? models[cdn[1]!]?.[cdn[2]!]?.[cdn[3]!] : undefined;
    if (!cdn || !bytes) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) });
    if (cdn[1]!.endsWith('-broken') && cdn[3] === 'model.safetensors') {
      res.write(bytes.subarray(0, bytes.byteLength >> 1), () => res.destroy());
      return;
    }
    // in a few chunks, so progress callbacks see more than one step
    const step = Math.max(1, Math.ceil(bytes.byteLength / 4));
    for (let o = 0; o < bytes.byteLength; o += step) res.write(bytes.subarray(o, o + step));
    res.end();
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', () => ok()));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('startHub: no port');
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    log,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
