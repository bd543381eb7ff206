/**
 * Keeps ts-node's transpiled output between program runs. The engine loads the project's modules afresh for every
 * run (engine/program.ts `forgetProjectModules`), so that `index.ts` runs again from the top; without this, every
 * run also transpiled the same ~50 files again, which was about half of each run's time and most of `npm test`'s.
 *
 * The cache is keyed by file name and source text, so an edited file is transpiled anew. ts-node hands every
 * `.ts` module to `service.compile(code, fileName)` (ts-node 10.9.2 src/index.ts `registerExtension`); the
 * registered service is `process[Symbol.for("ts-node.register.instance")]` (`REGISTER_INSTANCE`). Without
 * ts-node (compiled JavaScript) there is nothing to cache.
 */
interface TsNodeService {
    compile(code: string, fileName: string, lineOffset?: number): string;
}

const REGISTER_INSTANCE = Symbol.for("ts-node.register.instance");
const CACHED = Symbol.for("gitops-dr.transpile-cache");

/** Wraps the registered ts-node service's `compile` with a cache, once per process. */
export function cacheTranspiledModules(): void {
    const holder = process as unknown as Record<symbol, unknown>;
    const service = holder[REGISTER_INSTANCE] as (TsNodeService & Record<symbol, unknown>) | undefined;
    if (service === undefined || typeof service.compile !== "function" || service[CACHED] === true) {
        return;
    }
    const compile = service.compile.bind(service);
    const cache = new Map<string, { code: string; output: string }>();
    service.compile = (code, fileName, lineOffset) => {
        const hit = cache.get(fileName);
        if (hit !== undefined && hit.code === code && lineOffset === undefined) {
            return hit.output;
        }
        const output = compile(code, fileName, lineOffset);
        if (lineOffset === undefined) {
            cache.set(fileName, { code, output });
        }
        return output;
    };
    service[CACHED] = true;
}
