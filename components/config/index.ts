/**
 * The stack configuration: every key gitops-dr reads, declared once (keys.ts), read once (here), validated once.
 *
 * `loadConfig()` is the only place in the program that touches `pulumi.Config` or the source stack: it resolves
 * the source stack's outputs first, then validates everything together, so that a problem found in either stops
 * the run before any resource is registered. Parsing is split by concern (vault, source and restore,
 * credentials, Velero and schedules, Argo CD, monitoring, mirrors); this module only orchestrates and freezes.
 */
import * as pulumi from "@pulumi/pulumi";

import { parseArgoCd } from "./argocd";
import { parseAudit, parseVaultAccount } from "./audit";
import { parseCredentials } from "./credentials";
import { parseDrill } from "./drill";
import { PROJECT } from "./keys";
import { parseMirrors } from "./mirrors";
import { parseMonitoring } from "./monitoring";
import { parseStoragePreflight } from "./storage";
import { parseBackupCheck, parseVerify } from "./verify";
import { ConfigError, ConfigReader, ConfigWarning, RawConfig, RawValue, q, setCmd } from "./reader";
import { parseRestore, parseSource, parseSourceStack } from "./restore";
import { parseSourceReplica } from "./source-replica";
import { MODES, StackConfig } from "./types";
import { PREFIX, isDnsLabel, prefixWildcardProblem } from "./values";
import { parseVelero } from "./velero";
import { parseDataPath } from "./data-path";
import { SourceOutputs, parseVault } from "./vault";

export * from "./keys";
export * from "./reader";
export * from "./types";
export { ARGO_CD_GUARDED, VELERO_GUARDED, NO_USER_VALUES } from "./user-values";
export type { GuardedPath, UserValues } from "./user-values";
export { cronProblem, isValidBucketName, parseDurationHours, regionProblem, AWS_REGIONS } from "./values";
export { MAX_LOCK_DAYS, COMPLIANCE_ACK_ABOVE_DAYS, TRANSITION_CLASSES, MIN_DAYS_IN_STANDARD_IA } from "./vault";
export type { SourceOutputs } from "./vault";
export { PUBLIC_REGISTRIES, chartArchiveMetadata } from "./mirrors";
export { DEFAULT_AUDIT_LOG_DAYS, ROLE_ARN } from "./audit";
export { MAX_RESTORE_ID, RESTORE_TIMEOUT_MARGIN_MINUTES, prefixesOverlap } from "./restore";
export { MAX_LOADS_PER_NODE, MAX_PARALLEL_FILES, parseNodeConcurrency } from "./data-path";

/** The outputs a protect stack publishes for recover and drill stacks, read through `sourceStack`. */
export const SOURCE_STACK_OUTPUTS = [
    "bucketName",
    "region",
    "kmsKeyArn",
    "prefix",
    "clusterName",
    "dailyScheduleName",
    "replicaBucketName",
    "replicaRegion",
    "replicaKmsKeyArn",
] as const satisfies readonly (keyof SourceOutputs)[];

/** A validated configuration and the warnings its keys raised. */
export interface ParsedConfig {
    readonly config: StackConfig;
    readonly warnings: readonly ConfigWarning[];
}

/**
 * Validates raw configuration (and, in recover and drill, the source stack's outputs) and returns the typed,
 * deeply frozen stack configuration. Collects every problem and throws one {@link ConfigError}.
 */
export function parseConfigWithWarnings(raw: RawConfig, stack: string, source: SourceOutputs = {}): ParsedConfig {
    const r = new ConfigReader(raw, stack);
    r.checkUnknownKeys();

    const mode = r.oneOf("mode", MODES) ?? "protect";
    const clusterName = r.str("clusterName");
    if (clusterName === undefined) {
        r.problem("clusterName", `is required. Fix: \`${setCmd("clusterName", "prod-eu-1")}\`.`);
    } else if (!isDnsLabel(clusterName, 40)) {
        r.problem(
            "clusterName",
            `${q(clusterName)} must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit (it names IAM roles and Schedules). Fix: \`${setCmd("clusterName", "prod-eu-1")}\`.`,
        );
    }
    const validClusterName = clusterName !== undefined && isDnsLabel(clusterName, 40) ? clusterName : undefined;
    const kubeContext = r.str("kubeContext") ?? "";
    if (/[\x00-\x1f\x7f]/.test(kubeContext) || kubeContext !== kubeContext.trim()) {
        // A newline would end the context name in kubeconfig and let the rest be read as more YAML.
        r.problem(
            "kubeContext",
            `${q(kubeContext)} contains a control character or surrounding whitespace, which no kubeconfig context name has. Fix: \`${setCmd("kubeContext", kubeContext.trim().split(/[\x00-\x1f\x7f]/)[0] || "prod-eu-1")}\` (kubectl config get-contexts).`,
        );
    } else if (mode !== "protect" && kubeContext === "") {
        // A rebuilt cluster adopts objects that already exist (upsertExistingObjects): run against the live
        // cluster by mistake, a recover or drill stack would take over its namespaces, and a later destroy would
        // delete them. The kubeconfig's current context is too easy to get wrong for that.
        r.problem(
            "kubeContext",
            `is required in a ${mode} stack: it must name the new cluster's context explicitly, never the current one, which may be prod's. Fix: \`${setCmd("kubeContext", mode === "drill" ? "drill-eu-1" : "prod-eu-2")}\` (kubectl config get-contexts).`,
        );
    }
    const allowUnlistedRegion = r.bool("allowUnlistedRegion", false);

    const sourceStack = parseSourceStack(r, mode);
    const vault = parseVault(r, mode, allowUnlistedRegion, sourceStack, source);

    let prefix: string | undefined;
    if (mode === "drill") {
        r.forbidInMode("prefix", mode, "a drill writes no backups");
    } else {
        prefix = r.str("prefix") ?? validClusterName;
        const wildcard = prefix === undefined ? undefined : prefixWildcardProblem(prefix);
        if (wildcard !== undefined) {
            r.problem("prefix", `${wildcard} Fix: \`${setCmd("prefix", "prod-eu-1")}\`.`);
            prefix = undefined;
        } else if (prefix !== undefined && (!PREFIX.test(prefix) || prefix.length > 200)) {
            r.problem(
                "prefix",
                `${q(prefix)} must be path segments of letters, digits and !_.'()- separated by single slashes, with no leading or trailing slash. Fix: \`${setCmd("prefix", "prod-eu-1")}\`.`,
            );
            prefix = undefined;
        }
    }
    const sourceSettings = parseSource(r, mode, validClusterName, prefix, sourceStack, source);
    const credentials = parseCredentials(r, validClusterName, allowUnlistedRegion);
    // Before the charts' settings: the images of your own in their values must come from the mirror.
    const mirrors = parseMirrors(r);
    const velero = parseVelero(
        r,
        mode,
        validClusterName,
        vault.lockDays > 0 ? vault.lockDays : undefined,
        mirrors.imageRegistry,
    );
    const replica = parseSourceReplica(r, mode, vault, velero.volumeDataMode, allowUnlistedRegion, sourceStack, source);
    const argoCd = parseArgoCd(r, mode, velero.namespace, mirrors.imageRegistry);
    const restore = parseRestore(r, mode, validClusterName);
    const dataPath = parseDataPath(r, velero.volumeDataMode, velero.fileSystemBackupVolumeTypes.length > 0);
    const drill = parseDrill(r, mode, restore?.namespaces);
    const verify = parseVerify(r, mode, velero.volumeDataMode);
    const backupCheck = parseBackupCheck(r, mode);
    const storagePreflight = parseStoragePreflight(r, mode);
    const monitoring = parseMonitoring(r);
    const vaultAccount = parseVaultAccount(r, mode, vault, credentials);
    const audit = parseAudit(r, mode, vault);

    if (r.problems.length > 0) {
        throw new ConfigError(r.problems);
    }
    // Every `undefined` below was reported above, so these assertions only narrow types.
    const config: StackConfig = {
        project: PROJECT,
        stack,
        mode,
        clusterName: validClusterName!,
        kubeContext,
        prefix,
        vault,
        source: sourceSettings === undefined || replica === undefined ? sourceSettings : { ...sourceSettings, replica },
        credentials: credentials!,
        velero: { ...velero, repoPassword: velero.repoPassword! },
        dataPath,
        argoCd,
        restore,
        drill,
        verify,
        backupCheck,
        storagePreflight,
        monitoring,
        mirrors,
        vaultAccount,
        audit,
    };
    return { config: deepFreeze(config), warnings: Object.freeze([...r.warnings]) };
}

/** {@link parseConfigWithWarnings} without the warnings. */
export function parseConfig(raw: RawConfig, stack: string, source: SourceOutputs = {}): StackConfig {
    return parseConfigWithWarnings(raw, stack, source).config;
}

/**
 * Freezes plain objects and arrays all the way down, but not `pulumi.Output`s: a library deep-freeze would
 * freeze an Output's internals, which the SDK mutates. Hand-written for that reason.
 */
function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object" && !pulumi.Output.isInstance(value) && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value as object)) {
            deepFreeze(v);
        }
    }
    return value;
}

/** Reads the `gitops-dr:` configuration of the running stack, with which values the CLI marked secret. */
export function readRawConfig(): RawConfig {
    // pulumi.Config offers no "is this key secret?" query; the runtime's own check reads the secret key list the
    // CLI passes to the program (PULUMI_CONFIG_SECRET_KEYS).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };
    const raw: Record<string, RawValue> = {};
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        const [namespace, key] = fullKey.split(":", 2);
        if (namespace === PROJECT && key !== undefined) {
            raw[key] = { value, secret: runtimeConfig.isConfigSecret(fullKey) };
        }
    }
    return raw;
}

/**
 * Reads the outputs of the source stack that recover and drill stacks build on. A StackReference is a read of
 * another stack's state, not a resource of this one; its outputs are known in previews too.
 */
export async function readSourceOutputs(name: string): Promise<SourceOutputs> {
    const ref = new pulumi.StackReference(`${PROJECT}-${pulumi.getStack()}-source`, { name });
    const outputs: Record<string, string> = {};
    for (const key of SOURCE_STACK_OUTPUTS) {
        const details = await ref.getOutputDetails(key);
        const value: unknown = details.value ?? details.secretValue;
        if (typeof value === "string" && value !== "") {
            outputs[key] = value;
        }
    }
    // A protect stack last updated before the flat replica outputs existed has only the nested `replica` output,
    // and while the vault's region is down its `pulumi up` cannot add them.
    const nested = await ref.getOutputDetails("replica");
    const replica: unknown = nested.value ?? nested.secretValue;
    if (typeof replica === "object" && replica !== null) {
        const r = replica as Record<string, unknown>;
        for (const [flat, field] of [
            ["replicaBucketName", "bucketName"],
            ["replicaRegion", "region"],
            ["replicaKmsKeyArn", "kmsKeyArn"],
        ] as const) {
            const v = r[field];
            if (outputs[flat] === undefined && typeof v === "string" && v !== "") {
                outputs[flat] = v;
            }
        }
    }
    return outputs;
}

/**
 * Reads and validates the running stack's configuration, after resolving the source stack's outputs, and logs
 * every warning. Throws a {@link ConfigError} before the program registers any resource.
 */
export async function loadConfig(): Promise<StackConfig> {
    const raw = readRawConfig();
    const stack = pulumi.getStack();
    const first = new ConfigReader(raw, stack);
    const mode = first.oneOf("mode", MODES) ?? "protect";
    const sourceStack = parseSourceStack(first, mode);
    const source = sourceStack !== undefined ? await readSourceOutputs(sourceStack) : {};
    const { config, warnings } = parseConfigWithWarnings(raw, stack, source);
    for (const w of warnings) {
        void pulumi.log.warn(`${w.key}: ${w.message}`);
    }
    return config;
}
