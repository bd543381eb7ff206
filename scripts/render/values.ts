/**
 * Readers of parsed YAML and JSON values (manifests, release values, resource inputs): narrowing an `unknown` to
 * a map, a string or a list of strings, and walking a value's string leaves by path.
 */

/** Whether a value is a map (not null, not a list). */
export function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The value if it is a string. */
export function str(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** The strings of a list; anything else gives none. */
export function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((n): n is string => typeof n === "string") : [];
}

/** The value at a path (`a.b[0].c`), or undefined when the path leads nowhere. */
export function valueAt(value: unknown, dotted: string): unknown {
    let current = value;
    for (const part of dotted.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "")) {
        if (Array.isArray(current) && /^\d+$/.test(part)) {
            current = current[Number(part)];
        } else if (isRecord(current)) {
            current = current[part];
        } else {
            return undefined;
        }
    }
    return current;
}

/** Calls `visit` with every string leaf of a value and its path (`a.b[0].c`). */
export function forEachString(value: unknown, at: string, visit: (at: string, s: string) => void): void {
    if (typeof value === "string") {
        visit(at, value);
    } else if (Array.isArray(value)) {
        value.forEach((v, i) => forEachString(v, `${at}[${i}]`, visit));
    } else if (isRecord(value)) {
        for (const [k, v] of Object.entries(value)) {
            forEachString(v, at === "" ? k : `${at}.${k}`, visit);
        }
    }
}
