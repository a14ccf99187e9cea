/** A JSON object as an upstream wrote it, before promgate has checked more than that it is one. */
export type JsonObject = Record<string, unknown>;

export const isJsonObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
