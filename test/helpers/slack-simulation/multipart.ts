/** The first part's bytes of a multipart/form-data body (files.uploadV2 sends one, field `body` or `file`). */
export function firstPartBytes(body: Buffer, contentType: string): Uint8Array {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (marker === undefined) return new Uint8Array(body);
  const delimiter = Buffer.from(`--${marker}`);
  const start = body.indexOf(delimiter);
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(Buffer.from(`\r\n--${marker}`), headersEnd);
  if (start === -1 || headersEnd === -1 || end === -1) throw new Error('malformed multipart body');
  return new Uint8Array(body.subarray(headersEnd + 4, end));
}
