/** The offline engine's public surface, for scripts and tests. */
export * from "./cli-config";
export * from "./program";
export * from "./providers";
export * from "./recorder";
export * from "./run";
export * from "./stacks";
