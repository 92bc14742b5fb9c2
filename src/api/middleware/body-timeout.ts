// Node's requestTimeout is one figure for the whole server; the API wants a short one for JSON
// and forms and a long one for CSV uploads. The server's requestTimeout is set to the upload
// limit (see http-server.ts), and this middleware cuts off any other request whose body has not
// fully arrived within `ms`: a client trickling a body cannot hold a connection for an hour.
import type { Request, RequestHandler } from 'express';

export function bodyTimeout(ms: number, exempt: (req: Request) => boolean): RequestHandler {
  return (req, res, next) => {
    if (exempt(req) || req.complete) return next();
    const timer = setTimeout(() => {
      if (req.complete || res.headersSent) return;
      res.status(408).set('Connection', 'close').type('text/plain').send('Request timeout\n');
      req.socket.destroy();
    }, ms);
    timer.unref();
    const clear = () => clearTimeout(timer);
    req.once('end', clear);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}
