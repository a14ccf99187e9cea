/**
 * Prometheus's classic label-name syntax. promgate writes label names into queries, paths and silences only
 * when they are inside it: a name outside it (a Prometheus 3 UTF-8 name) could not be written there safely.
 */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const isLabelName = (name: string): boolean => LABEL_NAME.test(name);
