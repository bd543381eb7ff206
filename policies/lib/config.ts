/**
 * The pack's thresholds. Pulumi scopes policy configuration to a policy, so each policy declares the keys it
 * reads (with the shared default below) and an operator sets them per policy in the file passed to
 * `pulumi preview --policy-pack-config` (or `npm run policy -- <stack> --config <file>`), e.g.
 * `{ "vault-bucket-object-lock": { "minLockDays": 90, "requireCompliance": true } }`.
 *
 * Policies apply these defaults themselves: a key the operator did not set reads as its default whether or
 * not the engine filled schema defaults in.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";

import { num, bool, strings } from "./values";

/** Every threshold with its default. */
export const DEFAULTS = {
    /** Minimum default Object Lock retention of a vault, in days; also the retention assumed for a vault the stack does not create. */
    minLockDays: 30,
    /** Whether the vault's default retention must be COMPLIANCE (GOVERNANCE can be lifted by a privileged principal). */
    requireCompliance: true,
    /** Longest gap allowed between two runs of the most frequent backup schedule, in hours. */
    maxBackupIntervalHours: 24,
    /** Namespaces every backup schedule must exclude. */
    requiredExcludedNamespaces: ["kube-system"] as readonly string[],
    /**
     * Whether a recovery or drill role may add objects under `<sourcePrefix>/kopia/`. On by default: a data-mover
     * restore needs it (kopia compacts manifests on open, and Velero never opens kopia read-only), and it is
     * additive; turn it off to flag any such grant.
     */
    allowKopiaBlobWrites: true,
    /** AWS accounts besides the stack's own whose KMS keys the vault may use (a central key account). */
    allowedKmsKeyAccounts: [] as readonly string[],
};

export type Thresholds = typeof DEFAULTS;
export type ThresholdKey = keyof Thresholds;

/** JSON schema of each threshold, as a policy's `configSchema` declares it. */
const SCHEMAS: Record<ThresholdKey, PolicyConfigSchema["properties"][string]> = {
    minLockDays: {
        type: "integer",
        minimum: 1,
        default: DEFAULTS.minLockDays,
        description:
            "Minimum default Object Lock retention of the vault, in days. A vault the stack only reads or joins is assumed to hold at least this.",
    },
    requireCompliance: {
        type: "boolean",
        default: DEFAULTS.requireCompliance,
        description:
            "Require COMPLIANCE as the vault's default retention mode (on by default); GOVERNANCE retention can be lifted by any principal with s3:BypassGovernanceRetention. Set false to allow GOVERNANCE.",
    },
    maxBackupIntervalHours: {
        type: "number",
        exclusiveMinimum: 0,
        default: DEFAULTS.maxBackupIntervalHours,
        description: "Longest gap allowed between two backups of the most frequent schedule, in hours.",
    },
    requiredExcludedNamespaces: {
        type: "array",
        items: { type: "string" },
        default: [...DEFAULTS.requiredExcludedNamespaces],
        description: "Namespaces every backup schedule must exclude.",
    },
    allowKopiaBlobWrites: {
        type: "boolean",
        default: DEFAULTS.allowKopiaBlobWrites,
        description:
            "Let a recovery or drill role put kopia's session blobs (<sourcePrefix>/kopia/<ns>/q*, xn*, s*): opening a kopia repository with 16 or more manifest contents compacts them into new blobs. Never kopia's fixed-name blobs or data packs, which are judged whatever this says.",
    },
    allowedKmsKeyAccounts: {
        type: "array",
        items: { type: "string", pattern: "^\\d{12}$" },
        default: [],
        description:
            "AWS account ids, besides the stack's own, whose KMS keys the vault's encryption and the roles' grants may name.",
    },
};

/** The `configSchema` of a policy that reads `keys`. */
export function schemaOf(...keys: ThresholdKey[]): PolicyConfigSchema {
    const properties: PolicyConfigSchema["properties"] = {};
    for (const key of keys) {
        properties[key] = SCHEMAS[key];
    }
    return { properties };
}

/** Reads a policy's configuration, falling back to the default for every key unset or of the wrong type. */
export function thresholds(args: { getConfig<T extends object>(): T }): Thresholds {
    const raw: Record<string, unknown> = args.getConfig<Record<string, unknown>>();
    const namespaces = raw.requiredExcludedNamespaces;
    return {
        minLockDays: num(raw.minLockDays) ?? DEFAULTS.minLockDays,
        requireCompliance: bool(raw.requireCompliance) ?? DEFAULTS.requireCompliance,
        maxBackupIntervalHours: num(raw.maxBackupIntervalHours) ?? DEFAULTS.maxBackupIntervalHours,
        requiredExcludedNamespaces: Array.isArray(namespaces)
            ? strings(namespaces)
            : DEFAULTS.requiredExcludedNamespaces,
        allowKopiaBlobWrites: bool(raw.allowKopiaBlobWrites) ?? DEFAULTS.allowKopiaBlobWrites,
        allowedKmsKeyAccounts: Array.isArray(raw.allowedKmsKeyAccounts)
            ? strings(raw.allowedKmsKeyAccounts)
            : DEFAULTS.allowedKmsKeyAccounts,
    };
}
