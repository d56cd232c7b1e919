// Incremental server-sent-events reader for OpenAI streams (fetch + ReadableStream).

/**
 * Yield the `data` payload of each SSE event from a fetch Response body as it arrives.
 * Multi-line data fields are joined with "\n"; comments and other fields are ignored.
 * The caller decides what "[DONE]" means; stopping iteration cancels the body.
 */
export async function* sseData(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data = [];
  try {
    while (true) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
        // A lone "\r" at the end may be the first half of "\r\n" split across reads.
        if (!done && newline === buffer.length - 1 && buffer[newline] === "\r") break;
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (data.length) yield data.join("\n");
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
      if (done) break;
    }
    if (buffer.startsWith("data:")) data.push(buffer.slice(5).replace(/^ /, ""));
    if (data.length) yield data.join("\n");
  } finally {
    reader.cancel().catch(() => {});
  }
}

export class StreamError extends Error {
  constructor(message) {
    super(message);
    this.name = "StreamError";
  }
}

/**
 * Yield parsed chunks of an OpenAI chat/completions stream until `[DONE]`.
 * An in-band `{"error": {...}}` frame throws StreamError with its message.
 */
export async function* openaiChunks(body) {
  for await (const payload of sseData(body)) {
    if (payload.trim() === "[DONE]") return;
    let chunk;
    try {
      chunk = JSON.parse(payload);
    } catch {
      throw new StreamError(`unreadable stream frame: ${payload.slice(0, 120)}`);
    }
    if (chunk && chunk.error) {
      const err = chunk.error;
      throw new StreamError(typeof err === "string" ? err : err.message || JSON.stringify(err));
    }
    yield chunk;
  }
}
