/**
 * Reading raw `gitops-dr:` values: one {@link ConfigReader} per parse collects every problem, each naming the
 * key, the bad value and the fix, so a run reports all of them at once.
 */
import * as pulumi from "@pulumi/pulumi";
import { closest, distance } from "fastest-levenshtein";

import { CONFIG_KEYS, ConfigKey, ConfigKeySpec, PROJECT } from "./keys";
import type { Mode } from "./types";

/** One raw config value as the stack has it. */
export interface RawValue {
    readonly value: string;
    /** The value was set with `--secret` (or is `secure:` in the stack file). */
    readonly secret: boolean;
}

/** The stack's raw `gitops-dr:` configuration, keyed without the namespace. */
export type RawConfig = Readonly<Record<string, RawValue>>;

/** One problem found in the configuration. */
export interface ConfigProblem {
    /** Fully qualified key, e.g. `gitops-dr:lockDays`. */
    readonly key: string;
    readonly message: string;
}

/** One warning: a setting that is accepted but does nothing, or is risky on purpose. */
export type ConfigWarning = ConfigProblem;

/** Thrown with every problem found, so one run reports them all. A `RunError` prints without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: readonly ConfigProblem[]) {
        super(
            `gitops-dr: the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
        );
    }
}

/** `gitops-dr:<key>`. */
export const fq = (key: string): string => `${PROJECT}:${key}`;
/** A value quoted for a message. */
export const q = (v: string): string => JSON.stringify(v);
/** The `pulumi config set` command that sets `key`. */
export const setCmd = (key: string, example: string, secret = false): string =>
    `pulumi config set ${secret ? "--secret " : ""}${fq(key)} ${example}`;
/** The `pulumi config set --path` commands that set a list key, one per element (the CLI's way to write arrays). */
export const setListCmd = (key: string, examples: readonly string[]): string =>
    examples.map((e, i) => `pulumi config set --path '${fq(key)}[${i}]' ${e}`).join(" && ");
/** The `pulumi config rm` command for `key`. */
export const rmCmd = (key: string): string => `pulumi config rm ${fq(key)}`;

const spec = (key: ConfigKey): ConfigKeySpec => CONFIG_KEYS[key];

/** Typed access to raw values that records a problem, instead of throwing, for each bad one. */
export class ConfigReader {
    readonly problems: ConfigProblem[] = [];
    readonly warnings: ConfigWarning[] = [];

    constructor(
        readonly raw: RawConfig,
        readonly stack: string,
    ) {}

    problem(key: string, message: string): void {
        this.problems.push({ key: fq(key), message });
    }

    warn(key: string, message: string): void {
        this.warnings.push({ key: fq(key), message });
    }

    /** Reports every key that gitops-dr does not know, with the closest known key. */
    checkUnknownKeys(): void {
        const known = Object.keys(CONFIG_KEYS);
        for (const key of Object.keys(this.raw)) {
            if (!known.includes(key)) {
                const guess = closest(key, known);
                const hint = distance(key.toLowerCase(), guess.toLowerCase()) <= 3 ? `did you mean ${fq(guess)}? ` : "";
                this.problem(key, `is not a gitops-dr setting; ${hint}Remove it with \`${rmCmd(key)}\`.`);
            }
        }
    }

    /** The value as set, or undefined when unset or empty. Ignores the declared default. */
    explicit(key: ConfigKey): string | undefined {
        const v = this.raw[key]?.value;
        return v === undefined || v === "" ? undefined : v;
    }

    isSet(key: ConfigKey): boolean {
        return this.explicit(key) !== undefined;
    }

    /** A string, falling back to the declared default; undefined when neither is set (empty counts as unset). */
    str(key: ConfigKey): string | undefined {
        const d = spec(key).default;
        return this.explicit(key) ?? (typeof d === "string" && d !== "" ? d : undefined);
    }

    oneOf<T extends string>(key: ConfigKey, allowed: readonly T[]): T | undefined {
        const v = this.str(key);
        if (v !== undefined && !allowed.includes(v as T)) {
            const d = spec(key).default;
            // A value that differs only in case is a typo of that value, not a wish for the default.
            const meant =
                allowed.find((a) => a.toLowerCase() === v.toLowerCase()) ?? (typeof d === "string" ? d : allowed[0]);
            this.problem(key, `${q(v)} is not one of ${allowed.join(", ")}. Fix: \`${setCmd(key, meant)}\`.`);
            return undefined;
        }
        return v as T | undefined;
    }

    /** A whole number in [min, max]; the declared default, else `fallback`, when unset. */
    int(key: ConfigKey, min: number, max: number, fallback?: number): number | undefined {
        const v = this.explicit(key);
        const d = spec(key).default;
        if (v === undefined) {
            return typeof d === "number" ? d : fallback;
        }
        const n = Number(v);
        const example = String(typeof d === "number" ? d : (fallback ?? Math.max(min, 1)));
        if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
            this.problem(key, `${q(v)} is not a whole number. Fix: \`${setCmd(key, example)}\`.`);
            return undefined;
        }
        if (n < min || n > max) {
            this.problem(
                key,
                `${n} is out of range; it must be between ${min} and ${max}. Fix: \`${setCmd(key, example)}\`.`,
            );
            return undefined;
        }
        return n;
    }

    /**
     * `true` or `false` only, as the CLI's typed config passes booleans: anything else (`yes`, `1`, `True`) is
     * refused rather than read as false.
     */
    bool(key: ConfigKey, fallback: boolean): boolean {
        const v = this.explicit(key);
        const d = spec(key).default;
        if (v === undefined) {
            return typeof d === "boolean" ? d : fallback;
        }
        if (v !== "true" && v !== "false") {
            this.problem(
                key,
                `${q(v)} is not a boolean; only true and false are. Fix: \`${setCmd(key, String(typeof d === "boolean" ? !d : true))}\`.`,
            );
            return typeof d === "boolean" ? d : fallback;
        }
        return v === "true";
    }

    /** A list of strings, as the CLI passes arrays (a JSON string). */
    list(key: ConfigKey, example: readonly string[] = ["<value>"]): string[] {
        const v = this.explicit(key);
        if (v === undefined) {
            return [];
        }
        let parsed: unknown;
        try {
            parsed = JSON.parse(v);
        } catch {
            parsed = undefined;
        }
        if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== "string")) {
            this.problem(
                key,
                `${q(v)} is not a list of strings. Fix: set it as a YAML list in Pulumi.${this.stack}.yaml, or \`${setListCmd(key, example)}\`.`,
            );
            return [];
        }
        return parsed as string[];
    }

    /** A list of `name=value` entries as a map; reports entries that are not of that form or fail `check`. */
    map(
        key: ConfigKey,
        example: string,
        check?: (name: string, value: string) => string | undefined,
    ): Record<string, string> {
        const result: Record<string, string> = {};
        for (const entry of this.list(key, [example])) {
            const i = entry.indexOf("=");
            const [name, value] = i < 0 ? [entry, undefined] : [entry.slice(0, i), entry.slice(i + 1)];
            const issue = value === undefined || name === "" ? "is not name=value" : check?.(name, value);
            if (issue !== undefined) {
                this.problem(key, `entry ${q(entry)} ${issue}. Fix: \`${setListCmd(key, [example])}\`.`);
            } else if (name in result) {
                this.problem(key, `names ${q(name)} twice. Fix: keep one entry per name.`);
            } else {
                result[name] = value!;
            }
        }
        return result;
    }

    /**
     * A credential: must be set with `--secret`; its value never appears in a message. `otherFix` ends the message
     * of a missing one with another way out.
     */
    secret(key: ConfigKey, required: boolean, example: string, otherFix = ""): pulumi.Output<string> | undefined {
        const r = this.raw[key];
        if (r === undefined || r.value === "") {
            if (required) {
                this.problem(key, `is required. Fix: \`${setCmd(key, example, true)}\`${otherFix}.`);
            }
            return undefined;
        }
        if (!r.secret) {
            this.problem(
                key,
                `is set in plain text; it is a credential and must be encrypted. Fix: \`${setCmd(key, "<value>", true)}\`.`,
            );
            return undefined;
        }
        return pulumi.secret(r.value);
    }

    /** Reports `key` when it is set in a mode that must not have it. */
    forbidInMode(key: ConfigKey, mode: Mode, why: string): void {
        const v = this.explicit(key);
        if (v !== undefined) {
            const shown = spec(key).secret === true ? "(a secret)" : q(v);
            this.problem(key, `${shown} cannot be set in a ${mode} stack: ${why}. Fix: \`${rmCmd(key)}\`.`);
        }
    }

    /** Warns that `key` is set but does nothing in the current settings. */
    unused(key: ConfigKey, because: string): void {
        const v = this.explicit(key);
        if (v !== undefined) {
            const shown = spec(key).secret === true ? "(a secret)" : q(v);
            this.warn(key, `${shown} is ignored: ${because}. Remove it with \`${rmCmd(key)}\`.`);
        }
    }
}
