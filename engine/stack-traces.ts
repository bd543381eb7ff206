/**
 * Pulumi captures a stack trace of unbounded depth for every resource it registers, to find the resource's source
 * position (@pulumi/pulumi 3.248.0 `resource.ts` `Resource.stackTrace`: `Error.stackTraceLimit = Infinity`, then
 * `new Error().stack`). Under ts-node every frame of it is mapped through `@cspotcode/source-map-support`, which was
 * a quarter of the CPU of `npm test`. The engine records no source position, so those captures, and only those,
 * are formatted as V8 formats them without source maps, and only their innermost {@link FRAMES} frames (Pulumi takes
 * the first one past its own); every other stack trace (a failing test's, an error's) is still mapped to the
 * TypeScript source.
 */
/** Frames kept of an unbounded capture: Pulumi's own frames and the resource's constructor are within them. */
const FRAMES = 16;
const PLAIN = Symbol.for("gitops-dr.plain-unbounded-stack-traces");

/** Installs the plain formatting of unbounded captures over the current `Error.prepareStackTrace`, once per process. */
export function plainUnboundedStackTraces(): void {
    const mapped: ((error: Error, frames: NodeJS.CallSite[]) => unknown) | undefined =
        Error.prepareStackTrace?.bind(Error);
    const holder = Error as unknown as Record<symbol, unknown>;
    if (mapped === undefined || holder[PLAIN] === true) {
        return;
    }
    Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]): unknown =>
        Error.stackTraceLimit === Number.POSITIVE_INFINITY
            ? // V8's own frame format, `at fn (file:line:column)`, which Pulumi's parser reads.
              `${String(error)}${frames
                  .slice(0, FRAMES)
                  .map(
                      (frame) =>
                          `\n    at ${frame.getFunctionName() ?? "<anonymous>"} (${frame.getFileName() ?? "<unknown>"}:${frame.getLineNumber() ?? 0}:${frame.getColumnNumber() ?? 0})`,
                  )
                  .join("")}`
            : mapped(error, frames);
    holder[PLAIN] = true;
}
