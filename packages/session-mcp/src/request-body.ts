import type { IncomingMessage } from "node:http";
import { MAX_BODY_BYTES } from "./sdk-assumptions.js";

/** The body of a request, read once: parsed JSON, raw text, or nothing (GET, DELETE). */
export type RequestBody =
  | { readonly kind: "none" }
  | { readonly kind: "json"; readonly value: unknown }
  | { readonly kind: "invalid" }
  | { readonly kind: "too-large" }
  /** The connection failed before the body was in: the client aborted or the network did. */
  | { readonly kind: "aborted"; readonly error: unknown };

/** Reads a request's body when asked: after authentication, so a stranger's body is never read. */
export type BodyReader = () => Promise<RequestBody>;

/**
 * Reads and parses the POST body of a web `Request`, unless a framework already parsed it
 * (`parsedBody`). Other methods have none.
 */
export async function readWebBody(request: Request, parsedBody: unknown): Promise<RequestBody> {
  if (request.method !== "POST") return { kind: "none" };
  if (parsedBody !== undefined) return { kind: "json", value: parsedBody };
  if (request.body === null) return { kind: "invalid" };
  return collect(request.body);
}

/** The same for a Node request, read from its stream. */
export async function readNodeBody(
  req: IncomingMessage,
  parsedBody: unknown,
): Promise<RequestBody> {
  if (req.method !== "POST") return { kind: "none" };
  if (parsedBody !== undefined) return { kind: "json", value: parsedBody };
  return collect(req);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<RequestBody> {
  const received: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of chunks) {
      size += chunk.byteLength;
      // Leaving the loop cancels the stream: the rest of the body is never read.
      if (size > MAX_BODY_BYTES) return { kind: "too-large" };
      received.push(chunk);
    }
  } catch (error) {
    // A request stream fails only when its connection does (ECONNRESET "aborted" when the
    // client hangs up mid-body): the client's doing, not the server's.
    return { kind: "aborted", error };
  }
  try {
    return { kind: "json", value: JSON.parse(Buffer.concat(received, size).toString("utf8")) };
  } catch {
    return { kind: "invalid" };
  }
}
