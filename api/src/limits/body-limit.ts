import type { NextFunction, Request, Response } from 'express';

/**
 * Refuses request bodies above `maxBytes` (huge variables, huge documents) with a GraphQL-shaped
 * error before anything parses them. Counts the bytes as they arrive, so a lying or missing
 * Content-Length cannot get past it.
 */
export function bodyLimit(maxBytes: number) {
  const tooLarge = (res: Response) =>
    res.status(413).json({
      errors: [
        { message: `request body exceeds ${maxBytes} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } },
      ],
    });
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      req.resume();
      tooLarge(res);
      return;
    }
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes && !res.headersSent) {
        tooLarge(res);
        req.destroy();
      }
    });
    next();
  };
}
