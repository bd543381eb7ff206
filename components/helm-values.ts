/** Helm values as the program and the user's `argoCdValues`/`veleroValues` combine them. */
import * as pulumi from "@pulumi/pulumi";

import type { UserValues } from "./config";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `over` deep-merged into `base`, as Helm merges a values file over a chart's defaults (helm `pkg/chartutil`
 * `CoalesceTables`): maps merge key by key; a list or a scalar replaces what was there. Neither input changes.
 * A `null` replaces the program's value and reaches Helm, which then drops the chart's default for it too (a nil
 * value deletes the key when Helm coalesces), as `helm install -f program.yaml -f user.yaml` would; where that
 * would delete a guarantee, the guarded paths refuse it first (components/config/user-values.ts).
 */
export function mergeValues(
    base: Readonly<Record<string, unknown>>,
    over: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
    const result: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) {
        const current = result[key];
        result[key] = isObject(current) && isObject(value) ? mergeValues(current, value) : structuredClone(value);
    }
    return result;
}

/**
 * A release's values, secret when the user's values were set with `--secret` (they hold credentials): the
 * release's inputs and state are then encrypted, and `pulumi preview` shows them as [secret].
 */
export function userSecret(
    values: pulumi.Input<Record<string, unknown>>,
    user: UserValues | undefined,
): pulumi.Input<Record<string, unknown>> {
    return user?.secret === true ? pulumi.secret(values) : values;
}
