/** Parsing of what a recover or drill stack restores from (the source) and how (the restore). */
import { ConfigReader, q, setCmd, setListCmd, rmCmd } from "./reader";
import { DERIVED_DEFAULTS } from "./keys";
import type { Mode, RestoreSettings, SourceSettings } from "./types";
import type { SourceOutputs } from "./vault";
import { PREFIX, STACK_NAME, isDnsLabel, prefixWildcardProblem } from "./values";

const RESTORE_KEYS = [
    "restoreId",
    "restoreBackupName",
    "acceptPartiallyFailedBackup",
    "acceptPartiallyFailedRestore",
    "acceptOlderBackup",
    "acceptRestoreWarnings",
    "restoreNamespaces",
    "restoreNamespaceMappings",
    "storageClassMappings",
    "backupCheckTimeoutMinutes",
    "restoreTimeoutMinutes",
] as const;

/** Longest restoreId: `<clusterName (40)>-<restoreId>` must stay a 63-character label (Velero labels restores by name). */
export const MAX_RESTORE_ID = 22;

/**
 * The restore's Pulumi wait must outlast Velero's own timeouts, so that Pulumi sees the restore end (and reports
 * its phase) rather than timing out first: the Restore's `itemOperationTimeout` is set to the wait minus this
 * margin, which covers the node agent's data-mover prepare timeout (30 min, velero `--data-mover-prepare-timeout`)
 * and the restore's own finalizing.
 */
export const RESTORE_TIMEOUT_MARGIN_MINUTES = 60;
export const MIN_RESTORE_TIMEOUT_MINUTES = RESTORE_TIMEOUT_MARGIN_MINUTES + 30;

/** A Kubernetes object name (RFC 1123 subdomain), as Backup names and StorageClass names are. */
const isSubdomain = (s: string) => /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s) && s.length <= 253;

/** Whether one S3 prefix contains the other (a role scoped to one would reach objects of the other). */
export function prefixesOverlap(a: string, b: string): boolean {
    return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** Reads `sourceStack` alone: the program resolves its outputs before the rest of the config is parsed. */
export function parseSourceStack(r: ConfigReader, mode: Mode): string | undefined {
    const sourceStack = r.str("sourceStack");
    if (mode === "protect") {
        r.forbidInMode("sourceStack", mode, "a protect stack restores only its own backups");
        return undefined;
    }
    if (sourceStack !== undefined && !STACK_NAME.test(sourceStack)) {
        r.problem(
            "sourceStack",
            `${q(sourceStack)} is not a stack name. Fix: \`${setCmd("sourceStack", "acme/gitops-dr/prod")}\`.`,
        );
        return undefined;
    }
    return sourceStack;
}

/** The source of a recover or drill stack; undefined in protect (where every source key is refused). */
export function parseSource(
    r: ConfigReader,
    mode: Mode,
    clusterName: string | undefined,
    prefix: string | undefined,
    sourceStack: string | undefined,
    outputs: SourceOutputs,
): SourceSettings | undefined {
    if (mode === "protect") {
        r.forbidInMode("sourcePrefix", mode, "a protect stack restores only its own backups");
        r.forbidInMode("sourceScheduleName", mode, "a protect stack restores only its own backups");
        r.forbidInMode("sourceCredentialsScheduleName", mode, "a protect stack restores only its own backups");
        r.forbidInMode(
            "restoreCredentials",
            mode,
            "a protect stack restores only the namespaces named in restoreNamespaces",
        );
        return undefined;
    }
    const fromStack = (what: string) => `the source stack ${sourceStack}'s output ${what}`;
    const sourcePrefix = r.str("sourcePrefix") ?? outputs.prefix;
    if (sourcePrefix === undefined) {
        r.problem(
            "sourcePrefix",
            `is required: a ${mode} stack needs the prefix of the backups it restores. Fix: \`${setCmd("sourcePrefix", "prod-eu-1")}\` or \`${setCmd("sourceStack", "acme/gitops-dr/prod")}\`.`,
        );
    } else if (prefixWildcardProblem(sourcePrefix) !== undefined) {
        r.problem(
            "sourcePrefix",
            `${r.isSet("sourcePrefix") ? "" : `${fromStack("prefix")}: `}${prefixWildcardProblem(sourcePrefix)!} Fix: \`${setCmd("sourcePrefix", "prod-eu-1")}\`.`,
        );
    } else if (!PREFIX.test(sourcePrefix)) {
        r.problem(
            "sourcePrefix",
            `${r.isSet("sourcePrefix") ? q(sourcePrefix) : fromStack("prefix")} must be path segments separated by single slashes, with no leading or trailing slash. Fix: \`${setCmd("sourcePrefix", "prod-eu-1")}\`.`,
        );
    } else if (mode === "recover" && prefix !== undefined && prefixesOverlap(prefix, sourcePrefix)) {
        // The writer role gets DeleteObject under its own prefix: it must never reach the backups it restores.
        const from = r.isSet("sourcePrefix") ? q(sourcePrefix) : `${q(sourcePrefix)} (${fromStack("prefix")})`;
        // Suggest the cluster's own name unless that is what overlaps (the default prefix); then a new one.
        const suggestion =
            clusterName === undefined
                ? "prod-eu-2"
                : prefixesOverlap(clusterName, sourcePrefix)
                  ? `${clusterName}-r1`
                  : clusterName;
        r.problem(
            "prefix",
            `${q(prefix)} overlaps the source prefix ${from}: the recovered cluster's writer role could delete or overwrite the backups it restores from. Fix: \`${setCmd("prefix", suggestion)}\`, or any prefix outside ${q(sourcePrefix)}.`,
        );
    }
    if (
        mode === "recover" &&
        clusterName !== undefined &&
        outputs.clusterName !== undefined &&
        clusterName === outputs.clusterName
    ) {
        r.problem(
            "clusterName",
            `${q(clusterName)} is the lost cluster's name (${fromStack("clusterName")}): the new cluster's Schedules would carry the same names as the lost cluster's, and a restore by schedule could pick the new cluster's own backups. Fix: \`${setCmd("clusterName", `${clusterName}-r1`)}\` (any new name).`,
        );
    }

    const scheduleName = r.str("sourceScheduleName") ?? outputs.dailyScheduleName;
    if (scheduleName !== undefined && !isDnsLabel(scheduleName)) {
        r.problem(
            "sourceScheduleName",
            `${r.isSet("sourceScheduleName") ? q(scheduleName) : fromStack("dailyScheduleName")} is not a Schedule name (lowercase letters, digits, hyphens; at most 63). Fix: \`${setCmd("sourceScheduleName", "prod-eu-1-daily")}\`.`,
        );
    } else if (scheduleName === undefined && !r.isSet("restoreBackupName")) {
        r.problem(
            "sourceScheduleName",
            `is required ${sourceStack === undefined ? "without a source stack" : `(the source stack ${sourceStack} has no dailyScheduleName output)`}: the restore picks the newest Completed backup of the lost cluster's daily Schedule. Fix: \`${setCmd("sourceScheduleName", "prod-eu-1-daily")}\`, or name the backup with \`${setCmd("restoreBackupName", "prod-eu-1-daily-20261124020000")}\`.`,
        );
    }
    let credentialsScheduleName: string | undefined;
    if (r.bool("restoreCredentials", true)) {
        const explicit = r.str("sourceCredentialsScheduleName");
        const backupName = r.str("restoreBackupName");
        // Derived in the order of trust: the key, the source's own output, then its naming convention
        // (`<cluster>-daily` -> `<cluster>-credentials`, from the Schedule or from a named daily backup).
        const fromDaily = (daily: string | undefined) => daily?.match(/^(.+)-daily$/)?.[1]?.concat("-credentials");
        // An explicit sourceScheduleName names the cluster being restored; it outranks the source stack's outputs.
        const derived =
            (r.isSet("sourceScheduleName") ? fromDaily(scheduleName) : undefined) ??
            outputs.credentialsScheduleName ??
            (outputs.clusterName !== undefined ? `${outputs.clusterName}-credentials` : undefined) ??
            fromDaily(scheduleName ?? backupName?.match(/^(.+-daily)-\d{14}$/)?.[1]);
        credentialsScheduleName = explicit ?? derived;
        const scheduleReported = scheduleName === undefined ? backupName === undefined : !isDnsLabel(scheduleName);
        if (credentialsScheduleName !== undefined && !isDnsLabel(credentialsScheduleName)) {
            // A typo in sourceScheduleName is reported once, there, not again through what it derives.
            if (explicit !== undefined || !scheduleReported) {
                r.problem(
                    "sourceCredentialsScheduleName",
                    `${explicit !== undefined ? q(credentialsScheduleName) : `${q(credentialsScheduleName)} (derived from the source's daily Schedule)`} is not a Schedule name (lowercase letters, digits, hyphens; at most 63). Fix: \`${setCmd("sourceCredentialsScheduleName", "prod-eu-1-credentials")}\`.`,
                );
            }
            credentialsScheduleName = undefined;
        } else if (credentialsScheduleName === undefined && !scheduleReported) {
            r.problem(
                "sourceCredentialsScheduleName",
                `is required: the source's credentials Schedule (sealing keys, Argo CD credentials) cannot be derived from ${scheduleName !== undefined ? `the daily Schedule ${q(scheduleName)}` : "the configuration"}. Fix: \`${setCmd("sourceCredentialsScheduleName", "prod-eu-1-credentials")}\`, or \`${setCmd("restoreCredentials", "false")}\` for a source that takes no such backups.`,
            );
        }
    } else {
        r.unused("sourceCredentialsScheduleName", "restoreCredentials is false");
    }
    return {
        stack: sourceStack,
        prefix: sourcePrefix ?? "",
        scheduleName: scheduleName ?? "",
        ...(credentialsScheduleName === undefined ? {} : { credentialsScheduleName }),
    };
}

/**
 * How a recover or drill stack restores; in protect, the namespaces restored into the running cluster (only when
 * restoreNamespaces is set: every other restore key then applies too, and without it they are refused).
 */
export function parseRestore(
    r: ConfigReader,
    mode: Mode,
    clusterName: string | undefined,
): RestoreSettings | undefined {
    if (mode === "protect" && !r.isSet("restoreNamespaces")) {
        for (const key of RESTORE_KEYS) {
            r.forbidInMode(
                key,
                mode,
                'a protect stack restores only the namespaces named in restoreNamespaces (README, "Recover one namespace")',
            );
        }
        return undefined;
    }
    const what = mode === "protect" ? "namespace restore" : mode;
    const id = r.str("restoreId");
    if (id === undefined) {
        r.problem(
            "restoreId",
            `is required: it names this ${what}'s Restore, and a new ${what} needs a new one. Fix: \`${setCmd("restoreId", new Date().toISOString().slice(0, 10))}\`.`,
        );
    } else if (!isDnsLabel(id, MAX_RESTORE_ID)) {
        r.problem(
            "restoreId",
            `${q(id)} must be at most ${MAX_RESTORE_ID} lowercase letters, digits and hyphens (it becomes part of the Restore's name, <clusterName>-<restoreId>). Fix: \`${setCmd("restoreId", "2026-11-25")}\`.`,
        );
    }
    const backupName = r.str("restoreBackupName");
    if (backupName !== undefined && !isSubdomain(backupName)) {
        r.problem(
            "restoreBackupName",
            `${q(backupName)} is not a Backup name (\`velero backup get\` lists them). Fix: \`${setCmd("restoreBackupName", "prod-eu-1-daily-20261124020000")}\`.`,
        );
    }
    const acceptPartiallyFailedBackup = r.bool("acceptPartiallyFailedBackup", false);
    if (acceptPartiallyFailedBackup && backupName === undefined) {
        r.problem(
            "acceptPartiallyFailedBackup",
            `is true but no backup is named: a PartiallyFailed backup is restored only when it is chosen by name, after reading \`velero backup describe NAME --details\`. Fix: \`${setCmd("restoreBackupName", "<backup name>")}\`.`,
        );
    }
    const acceptPartiallyFailedRestore = r.bool("acceptPartiallyFailedRestore", false);
    if (acceptPartiallyFailedRestore) {
        r.warn(
            "acceptPartiallyFailedRestore",
            `is true: Argo CD will sync even if some PVs, PVCs or Secrets failed to restore; read \`velero restore describe <name> --details\` before trusting the cluster.`,
        );
    }
    const acceptOlderBackup = r.bool("acceptOlderBackup", false);
    if (acceptOlderBackup && backupName !== undefined) {
        r.problem(
            "acceptOlderBackup",
            `is true but restoreBackupName names the backup: an older backup is only a question when Velero picks the newest Completed one. Fix: \`${rmCmd("acceptOlderBackup")}\`.`,
        );
    } else if (acceptOlderBackup) {
        r.warn(
            "acceptOlderBackup",
            "is true: the restore takes the newest Completed backup even when newer ones failed; remove it once this restore is done.",
        );
    }
    const acceptRestoreWarnings = r.bool("acceptRestoreWarnings", false);
    if (acceptRestoreWarnings) {
        r.warn(
            "acceptRestoreWarnings",
            "is true: Argo CD will sync after a restore that ended with warnings (skipped items, claims without data); read `velero restore describe <name> --details` first.",
        );
    }
    const namespaces = r.list("restoreNamespaces", ["shop"]);
    for (const ns of namespaces) {
        if (!isDnsLabel(ns)) {
            r.problem(
                "restoreNamespaces",
                `${q(ns)} is not a namespace name (RFC 1123 label). Fix: \`${setListCmd("restoreNamespaces", ["shop"])}\`.`,
            );
        }
    }
    const namespaceMappings = r.map("restoreNamespaceMappings", "shop=shop-restored", (from, to) =>
        !isDnsLabel(from) || !isDnsLabel(to)
            ? "does not map one namespace name to another"
            : from === to
              ? "maps a namespace to itself"
              : namespaces.length > 0 && !namespaces.includes(from)
                ? `maps ${from}, which restoreNamespaces does not restore`
                : undefined,
    );
    const storageClassMappings = r.map("storageClassMappings", "gp2=gp3", (from, to) =>
        !isSubdomain(from) || !isSubdomain(to)
            ? "does not map one StorageClass name to another"
            : from === to
              ? "maps a class to itself"
              : undefined,
    );
    const backupCheckTimeoutMinutes = r.int(
        "backupCheckTimeoutMinutes",
        5,
        240,
        DERIVED_DEFAULTS.backupCheckTimeoutMinutes,
    );
    const restoreTimeoutMinutes = r.int(
        "restoreTimeoutMinutes",
        MIN_RESTORE_TIMEOUT_MINUTES,
        24 * 60,
        DERIVED_DEFAULTS.restoreTimeoutMinutes,
    );
    if (clusterName === undefined && id === undefined) {
        return undefined;
    }
    return {
        id: id ?? "",
        backupName,
        acceptPartiallyFailedBackup,
        acceptPartiallyFailedRestore,
        acceptOlderBackup,
        acceptRestoreWarnings,
        namespaces,
        namespaceMappings,
        storageClassMappings,
        backupCheckTimeoutMinutes: backupCheckTimeoutMinutes ?? DERIVED_DEFAULTS.backupCheckTimeoutMinutes,
        restoreTimeoutMinutes: restoreTimeoutMinutes ?? DERIVED_DEFAULTS.restoreTimeoutMinutes,
    };
}
