/**
 * JSON text with every non-ASCII character escaped as `\uXXXX`: still the same JSON, and its string
 * length equals its byte length, which the renderer's exact sizing and latin1 encoding rely on.
 */
export function asciiJson(value: unknown): string {
  return asciiText(JSON.stringify(value));
}

const NON_ASCII = /[\u007f-\uffff]/g;

/** JSON text with its non-ASCII characters escaped (see asciiJson). */
export function asciiText(json: string): string {
  return json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
