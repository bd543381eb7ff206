/**
 * The Pulumi CLI's config stage, as the offline engine applies it before running the program. Everything here
 * follows pulumi `sdk/go/common/workspace/config.go` (`ValidateStackConfigAndApplyProjectConfig`, `mergeConfig`),
 * `project.go` (`ValidateConfigValue`, `Project.Validate`) and `sdk/go/common/resource/config` (how stack
 * values reach the program), so a stack that the CLI would refuse is refused here with the CLI's own message:
 *
 * - a project-namespace key declared with neither `default` nor `value` and not set on the stack:
 *   "Stack 'prod' is missing configuration value 'x'" (values 'a' and 'b'; 'a', 'b' and 'c');
 * - a typed key declared `secret: true` whose stack value is not `secure:`:
 *   "Stack 'prod' with configuration key 'x' must be encrypted as it's secret";
 * - a stack value that does not fit the declared type (integer: Go `strconv.Atoi`; boolean: exactly true or
 *   false; array: a YAML list, each item of `items`' type; string: any scalar):
 *   "Stack 'prod' with configuration key 'x' must be of type 'integer'";
 * - then the program sees every value as a string: scalars as YAML wrote them, lists and maps as JSON, secrets
 *   decrypted and listed in PULUMI_CONFIG_SECRET_KEYS.
 *
 * `pulumiConfigSet` replays `pulumi config set` / `rm` command lines onto a stack file, so the README's
 * commands can be checked to produce what the CLI would store (`--path` for list elements, `--secret`).
 */
import { parse as parseYaml } from "yaml";

/** A stack file's value: a YAML scalar, list or map, or `{ secure: ... }` (here: the plaintext, marked). */
export type StackValue =
    string | number | boolean | null | readonly StackValue[] | { readonly [k: string]: StackValue } | SecureValue;
export interface SecureValue {
    readonly secure: string;
}
/** `isSecureValue` (pulumi `sdk/go/common/resource/config/value.go`): a map of one `secure` string. */
const isSecure = (v: StackValue): v is SecureValue =>
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as { secure?: unknown }).secure === "string";

/**
 * `hasSecureValue`: a map or list holding a secure value anywhere. The CLI marks the whole key secure then
 * (`unmarshalValue`: `c.secure = hasSecureValue(obj)`), and hands the program the object decrypted
 * (`decryptObject`) with the key among the secret ones.
 */
function hasSecureValue(v: StackValue): boolean {
    if (isSecure(v)) {
        return true;
    }
    if (Array.isArray(v)) {
        return (v as StackValue[]).some(hasSecureValue);
    }
    return typeof v === "object" && v !== null && Object.values(v).some(hasSecureValue);
}

/** `decryptObject`: the value with every secure value replaced by its plaintext. */
function decrypted(v: StackValue): StackValue {
    if (isSecure(v)) {
        return v.secure;
    }
    if (Array.isArray(v)) {
        return (v as StackValue[]).map(decrypted);
    }
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decrypted(x)]));
    }
    return v;
}

/** A project's `config:` declaration of one key. */
export interface ConfigDeclaration {
    readonly type?: "string" | "integer" | "boolean" | "array" | "object";
    readonly items?: { readonly type: string };
    readonly description?: string;
    readonly default?: unknown;
    readonly value?: unknown;
    readonly secret?: boolean;
}

/** The CLI refused the project or the stack's configuration. */
export class CliConfigError extends Error {}

const SIMPLE_TYPES = new Set(["string", "integer", "boolean", "array", "object"]);

/**
 * `Project.Validate` for the `config:` block: allowed types, `items` on arrays, and the rules for keys of other
 * namespaces. Returns the declarations keyed by fully qualified name.
 */
export function validateProjectConfig(
    projectName: string,
    block: Readonly<Record<string, unknown>>,
): Map<string, ConfigDeclaration> {
    const result = new Map<string, ConfigDeclaration>();
    for (const [key, raw] of Object.entries(block)) {
        // A bare value is shorthand for `default` (`RewriteShorthandConfigValues`).
        const decl: ConfigDeclaration =
            typeof raw === "object" && raw !== null && !Array.isArray(raw) ? raw : { default: raw };
        const namespaced = key.includes(":") && !key.startsWith(`${projectName}:`);
        const full = key.includes(":") ? key : `${projectName}:${key}`;
        if (namespaced) {
            if (decl.type !== undefined) {
                throw new CliConfigError(
                    `Configuration key '${key}' is not namespaced by the project and should not define a type`,
                );
            }
            if (decl.default !== undefined) {
                throw new CliConfigError(
                    `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`,
                );
            }
            if (decl.value === undefined) {
                throw new CliConfigError(
                    `Configuration key '${key}' is namespaced and must provide an attribute 'value'`,
                );
            }
        }
        if (decl.default !== undefined && decl.value !== undefined) {
            throw new CliConfigError(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
        }
        if (decl.type !== undefined && !SIMPLE_TYPES.has(decl.type)) {
            throw new CliConfigError(
                `#/config/${key}/type: value must be one of "string", "integer", "boolean", "array", "object"`,
            );
        }
        if (decl.type === "array" && decl.items === undefined) {
            throw new CliConfigError(
                `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
            );
        }
        result.set(full, decl);
    }
    return result;
}

/** The type name the CLI prints: `array<string>` for arrays. */
function typeName(decl: ConfigDeclaration): string {
    return decl.type === "array" ? `array<${decl.items?.type ?? "string"}>` : (decl.type ?? "string");
}

/** `ValidateConfigValue`: whether a stack value fits a declared type. */
function fitsType(type: string, value: StackValue, items?: { readonly type: string }): boolean {
    const scalar = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
    // Values are compared as the strings the stack file's scalars marshal to.
    const text = typeof value === "string" ? value : scalar ? String(value) : undefined;
    switch (type) {
        case "string":
            return scalar;
        case "integer":
            return text !== undefined && /^[+-]?\d+$/.test(text) && Math.abs(Number(text)) <= 2 ** 63;
        case "boolean":
            return text === "true" || text === "false";
        case "array":
            return Array.isArray(value) && (value as StackValue[]).every((v) => fitsType(items?.type ?? "string", v));
        case "object":
            return typeof value === "object" && value !== null && !Array.isArray(value);
        default:
            return false;
    }
}

/** How the language host hands a value to the program: strings as they are, everything else as JSON. */
function encode(value: StackValue): string {
    if (isSecure(value)) {
        return value.secure;
    }
    if (typeof value === "string") {
        return value;
    }
    if (typeof value === "number" || typeof value === "boolean") {
        return String(value);
    }
    return JSON.stringify(decrypted(value));
}

/** The configuration the program receives. */
export interface ProgramConfig {
    readonly config: Record<string, string>;
    readonly secretKeys: Set<string>;
}

/**
 * `ValidateStackConfigAndApplyProjectConfig`: checks the stack's values against the declarations, applies
 * defaults and values, and encodes everything as the program sees it. Throws the CLI's error.
 */
export function applyProjectConfig(
    projectName: string,
    stackName: string,
    declarations: ReadonlyMap<string, ConfigDeclaration>,
    stackValues: ReadonlyMap<string, StackValue>,
): ProgramConfig {
    const missing: string[] = [];
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    for (const [key, decl] of declarations) {
        const shortKey = key.startsWith(`${projectName}:`) ? key.slice(projectName.length + 1) : key;
        const onStack = stackValues.get(key);
        if (onStack !== undefined) {
            if (decl.type !== undefined) {
                if (decl.secret === true && !isSecure(onStack)) {
                    throw new CliConfigError(
                        `Stack '${stackName}' with configuration key '${shortKey}' must be encrypted as it's secret`,
                    );
                }
                const plain = isSecure(onStack) ? onStack.secure : onStack;
                if (!fitsType(decl.type, plain, decl.items)) {
                    throw new CliConfigError(
                        `Stack '${stackName}' with configuration key '${shortKey}' must be of type '${typeName(decl)}'`,
                    );
                }
            }
            continue;
        }
        const given = decl.value ?? decl.default;
        if (given !== undefined) {
            config[key] = encode(given as StackValue);
        } else if (key.startsWith(`${projectName}:`)) {
            missing.push(shortKey);
        }
    }
    if (missing.length > 0) {
        missing.sort();
        const list =
            missing.length === 1
                ? `'${missing[0]}'`
                : `${missing
                      .slice(0, -1)
                      .map((m) => `'${m}'`)
                      .join(", ")} and '${missing[missing.length - 1]}'`;
        throw new CliConfigError(
            `Stack '${stackName}' is missing configuration value${missing.length === 1 ? "" : "s"} ${list}`,
        );
    }
    for (const [key, value] of stackValues) {
        config[key] = encode(value);
        if (hasSecureValue(value)) {
            secretKeys.add(key);
        }
    }
    return { config, secretKeys };
}

/** The value with each secure value, at any depth, replaced by `test-secret-for-<key path>`. */
function withTestSecrets(v: StackValue, at: string): StackValue {
    if (isSecure(v)) {
        return { secure: `test-secret-for-${at}` };
    }
    if (Array.isArray(v)) {
        return (v as StackValue[]).map((x, i) => withTestSecrets(x, `${at}[${i}]`));
    }
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withTestSecrets(x, `${at}.${k}`)]));
    }
    return v;
}

/** Reads a stack file's `config:` block; `secure:` values become `{ secure: <placeholder plaintext> }`. */
export function readStackFile(text: string, projectName: string): Map<string, StackValue> {
    const doc = (parseYaml(text) ?? {}) as { config?: Record<string, StackValue> };
    const values = new Map<string, StackValue>();
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        const full = key.includes(":") ? key : `${projectName}:${key}`;
        // An encrypted value cannot be decrypted here: it becomes a recognisable test secret, nested ones too.
        values.set(full, withTestSecrets(value, key));
    }
    return values;
}

/** Splits a shell command line into words, honouring single and double quotes (no expansion). */
export function shellWords(line: string): string[] {
    const words: string[] = [];
    const re = /'([^']*)'|"((?:\\.|[^"\\])*)"|(\S+)/g;
    let current = "";
    let last = -1;
    for (let m = re.exec(line); m !== null; m = re.exec(line)) {
        const piece = m[1] ?? (m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]);
        if (last >= 0 && m.index === last) {
            current += piece;
        } else {
            if (last >= 0) {
                words.push(current);
            }
            current = piece;
        }
        last = m.index + m[0].length;
    }
    if (last >= 0) {
        words.push(current);
    }
    return words;
}

/**
 * A `--path` key as the CLI parses it (pulumi `sdk/go/common/resource/config/map.go` `parseKeyPath`, with
 * `resource.ParsePropertyPath`): `ns:a.b["c.d"][0]` -> `ns:a`, `b`, `c.d`, 0. The first segment must be a name.
 */
function configPath(key: string): [string, ...(string | number)[]] {
    const colon = key.indexOf(":");
    const ns = key.slice(0, colon + 1);
    const text = key.slice(colon + 1);
    const segments: (string | number)[] = [];
    let i = 0;
    while (i < text.length) {
        if (text[i] === "[") {
            const close = text.indexOf("]", i);
            if (close < 0) {
                throw new CliConfigError(`invalid config key path: missing closing bracket in ${key}`);
            }
            const inner = text.slice(i + 1, close);
            if (/^\d+$/.test(inner)) {
                segments.push(Number(inner));
            } else if (/^"[^"]*"$/.test(inner)) {
                segments.push(inner.slice(1, -1));
            } else {
                throw new CliConfigError(`invalid config key path: ${key}`);
            }
            i = close + 1;
            if (text[i] === ".") {
                i += 1;
            }
        } else {
            const m = /^[^.[]+/.exec(text.slice(i));
            if (m === null) {
                throw new CliConfigError(`invalid config key path: ${key}`);
            }
            segments.push(m[0]);
            i += m[0].length;
            if (text[i] === ".") {
                i += 1;
            }
        }
    }
    const [first, ...rest] = segments;
    if (typeof first !== "string" || first === "") {
        throw new CliConfigError("first path segement of config key must be a string");
    }
    return [`${ns}${first}`, ...rest];
}

/**
 * `adjustObjectValue` (pulumi `sdk/go/common/resource/config/map.go`): a plain value set with `--path` is stored
 * as a boolean for `true`/`false`, as an integer when `strconv.Atoi` takes it (no leading zero), else a string.
 */
function adjustObjectValue(raw: string): StackValue {
    if (raw === "true" || raw === "false") {
        return raw === "true";
    }
    if (!(raw.length > 1 && raw.startsWith("0")) && /^[+-]?\d+$/.test(raw) && Math.abs(Number(raw)) < 2 ** 63) {
        return Number(raw);
    }
    return raw;
}

/**
 * `value` with `leaf` set at `path`, creating maps for names and lists for indices where nothing is (pulumi
 * `sdk/go/common/resource/config/map.go` `Map.Set`): a key's top-level string is overwritten, but a value on the
 * way that is neither missing nor of the kind the next segment needs is refused, with the CLI's message.
 */
function setAt(
    value: StackValue | undefined,
    path: readonly (string | number)[],
    leaf: StackValue,
    key: string,
    topLevel = true,
): StackValue {
    if (path.length === 0) {
        return leaf;
    }
    const current = value === null || (topLevel && typeof value === "string") ? undefined : value;
    const [head, ...rest] = path;
    if (typeof head === "number") {
        if (current !== undefined && !Array.isArray(current)) {
            throw new CliConfigError(`an array was expected for index ${head}`);
        }
        const list = [...((current as StackValue[] | undefined) ?? [])];
        // The CLI allows i == len (an append) and refuses anything beyond it.
        if (head > list.length) {
            throw new CliConfigError(`array index out of range: ${key}`);
        }
        list[head] = setAt(list[head], rest, leaf, key, false);
        return list;
    }
    if (current !== undefined && (typeof current !== "object" || Array.isArray(current))) {
        throw new CliConfigError(`a map was expected for key ${JSON.stringify(head)}`);
    }
    const map: Record<string, StackValue> = { ...((current as Record<string, StackValue> | undefined) ?? {}) };
    map[head] = setAt(map[head], rest, leaf, key, false);
    return map;
}

/** `value` without what is at `path` (`pulumi config rm --path`). */
function removedAt(value: StackValue, path: readonly (string | number)[]): StackValue {
    const [head, ...rest] = path;
    if (Array.isArray(value) && typeof head === "number") {
        const list = [...(value as StackValue[])];
        if (rest.length === 0) {
            list.splice(head, 1);
        } else if (list[head] !== undefined) {
            list[head] = removedAt(list[head], rest);
        }
        return list;
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value) && typeof head === "string") {
        const map = { ...(value as Record<string, StackValue>) };
        if (rest.length === 0) {
            delete map[head];
        } else if (map[head] !== undefined) {
            map[head] = removedAt(map[head], rest);
        }
        return map;
    }
    return value;
}

/**
 * Applies one `pulumi config set|rm` command (its words after `pulumi config`) to a stack's values, as the CLI
 * would store them: a plain `set` stores a string; `--path` stores into a list or map at the path, a plain value
 * adjusted to a boolean or integer where it reads as one; `--secret` marks the value secure. `--json` stores the
 * parsed JSON value (lists and maps).
 */
export function pulumiConfigSet(values: Map<string, StackValue>, words: readonly string[], projectName: string): void {
    const [verb, ...rest] = words;
    const flags = new Set(rest.filter((w) => w.startsWith("--")));
    const args = rest.filter((w) => !w.startsWith("--") && !/^-s$/.test(w));
    for (const f of flags) {
        if (!["--secret", "--plaintext", "--path", "--json"].includes(f)) {
            throw new CliConfigError(`unknown flag: ${f}`);
        }
    }
    const qualify = (k: string) => (k.includes(":") ? k : `${projectName}:${k}`);
    if (verb === "rm") {
        if (args.length !== 1) {
            throw new CliConfigError(`accepts 1 arg(s), received ${args.length}`);
        }
        if (flags.has("--path")) {
            const [key, ...path] = configPath(qualify(args[0]));
            const root = values.get(key);
            if (path.length === 0) {
                values.delete(key);
            } else if (root !== undefined) {
                values.set(key, removedAt(root, path));
            }
            return;
        }
        values.delete(qualify(args[0]));
        return;
    }
    if (verb !== "set") {
        throw new CliConfigError(`unknown command "${verb}" for "pulumi config"`);
    }
    if (args.length !== 2) {
        throw new CliConfigError(
            `accepts between 1 and 2 arg(s), received ${args.length}${args.length < 2 ? " (the value would be read from standard input)" : ""}`,
        );
    }
    const [keyArg, raw] = args;
    const secure = flags.has("--secret");
    if (flags.has("--path")) {
        const [key, ...path] = configPath(qualify(keyArg));
        const leaf: StackValue = secure ? { secure: raw } : adjustObjectValue(raw);
        values.set(key, path.length === 0 ? leaf : setAt(values.get(key), path, leaf, keyArg));
        return;
    }
    let value: StackValue = raw;
    if (flags.has("--json")) {
        value = JSON.parse(raw) as StackValue;
    }
    values.set(qualify(keyArg), secure ? { secure: typeof value === "string" ? value : JSON.stringify(value) } : value);
}
