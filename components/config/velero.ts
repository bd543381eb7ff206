/** Parsing of Velero's own keys and of its backup schedules. */
import { VELERO_AWS_PLUGIN } from "../versions";
import { DEFAULT_NAMES } from "../names";
import { credentialsScheduleName } from "../velero/credentials";
import { pluginContainerName } from "../velero/names";
import { DERIVED_DEFAULTS } from "./keys";
import { VELERO_GUARDED, parseUserValues } from "./user-values";
import { ConfigReader, q, rmCmd, setCmd } from "./reader";
import { BackupTier, Mode, VOLUME_DATA_MODES, VeleroSettings } from "./types";
import {
    MIN_BACKUP_INTERVAL_HOURS,
    cronProblem,
    isDnsLabel,
    isLabelKey,
    isLabelValue,
    parseDurationHours,
    shortestGapHours,
} from "./values";

/** Parses Velero's keys; `repoPassword` is undefined in the result's place when it had a problem. */
export function parseVelero(
    r: ConfigReader,
    mode: Mode,
    clusterName: string | undefined,
    lockDays: number | undefined,
    imageRegistry?: string,
): Omit<VeleroSettings, "repoPassword"> & { repoPassword?: VeleroSettings["repoPassword"] } {
    const repoPassword = r.secret("repoPassword", true, '"$(openssl rand -base64 32)"');
    const rawPassword = r.raw.repoPassword?.value ?? "";
    if (repoPassword !== undefined && rawPassword.length < 16) {
        r.problem(
            "repoPassword",
            `is ${rawPassword.length} characters long; kopia's repository password must be at least 16. Fix: \`${setCmd("repoPassword", '"$(openssl rand -base64 32)"', true)}\`.`,
        );
    }
    const namespace = r.str("veleroNamespace") ?? DEFAULT_NAMES.veleroNamespace;
    if (!isDnsLabel(namespace)) {
        r.problem(
            "veleroNamespace",
            `${q(namespace)} is not a valid namespace name (RFC 1123 label). Fix: \`${setCmd("veleroNamespace", "velero")}\`.`,
        );
    }
    const releaseName = r.str("veleroReleaseName") ?? DEFAULT_NAMES.veleroRelease;
    if (!isDnsLabel(releaseName, 53)) {
        r.problem(
            "veleroReleaseName",
            `${q(releaseName)} is not a valid Helm release name (lowercase letters, digits, hyphens; at most 53). Fix: \`${setCmd("veleroReleaseName", "velero")}\`.`,
        );
    }
    const volumeDataMode = r.oneOf("volumeDataMode", VOLUME_DATA_MODES) ?? "dataMover";
    const awsPluginVersion = r.str("awsPluginVersion") ?? VELERO_AWS_PLUGIN.tag;
    if (!new RegExp(`^${VELERO_AWS_PLUGIN.compatibleLine.replace(".", "\\.")}\\.\\d+$`).test(awsPluginVersion)) {
        r.problem(
            "awsPluginVersion",
            `${q(awsPluginVersion)} does not pair with Velero 1.18 (chart 12.1.0); the velero-plugin-for-aws compatibility matrix pairs it with the ${VELERO_AWS_PLUGIN.compatibleLine}.x line. Fix: \`${setCmd("awsPluginVersion", VELERO_AWS_PLUGIN.tag)}\`.`,
        );
    }
    const excludedNamespaces = r.list("excludedNamespaces", ["scratch"]);
    for (const ns of excludedNamespaces) {
        if (!isDnsLabel(ns)) {
            r.problem(
                "excludedNamespaces",
                `${q(ns)} is not a valid namespace name (RFC 1123 label). Fix: correct or remove it from the list in Pulumi.${r.stack}.yaml.`,
            );
        }
    }
    const dataMoverNodeLabels = r.map("dataMoverNodeLabels", "topology.kubernetes.io/zone=eu-west-1a", (k, v) =>
        !isLabelKey(k)
            ? "has a key that is not a label key"
            : !isLabelValue(v)
              ? "has a value that is not a label value"
              : undefined,
    );
    const volumeSnapshotClassDrivers = r.list("volumeSnapshotClassDrivers", ["ebs.csi.aws.com"]);
    for (const driver of volumeSnapshotClassDrivers) {
        // A CSI driver name is a DNS subdomain (CSI spec, GetPluginInfo: at most 63 characters).
        if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(driver) || driver.length > 63) {
            r.problem(
                "volumeSnapshotClassDrivers",
                `${q(driver)} is not a CSI driver name (e.g. ebs.csi.aws.com). Fix: correct it in Pulumi.${r.stack}.yaml.`,
            );
        }
    }
    if (volumeSnapshotClassDrivers.length > 0 && (volumeDataMode !== "dataMover" || mode === "drill")) {
        r.warn(
            "volumeSnapshotClassDrivers",
            `is ignored: ${mode === "drill" ? "a drill takes no backups" : `volumeDataMode ${volumeDataMode} takes no CSI snapshots`}, and restores need no VolumeSnapshotClass. Remove it with \`${rmCmd("volumeSnapshotClassDrivers")}\`.`,
        );
    }
    if (volumeDataMode !== "dataMover" && Object.keys(dataMoverNodeLabels).length > 0) {
        r.warn(
            "dataMoverNodeLabels",
            `is ignored: there are no data-mover pods with volumeDataMode ${volumeDataMode}. Remove it with \`${rmCmd("dataMoverNodeLabels")}\`.`,
        );
    }
    const tiers = parseSchedules(r, mode, clusterName, lockDays);
    const daily = tiers.find((t) => t.key === "daily");
    return {
        namespace,
        releaseName,
        volumeDataMode,
        awsPluginVersion,
        tiers,
        // Sealed Secrets' keys and Argo CD's credentials, with the daily backups (components/velero/credentials.ts).
        credentialsTier:
            daily === undefined || clusterName === undefined
                ? undefined
                : { ...daily, key: "credentials", name: credentialsScheduleName(clusterName) },
        excludedNamespaces,
        repoPassword,
        consistentBackups: r.bool("consistentBackups", true),
        volumeSnapshotClassDrivers:
            volumeSnapshotClassDrivers.length > 0 && volumeDataMode === "dataMover" && mode !== "drill"
                ? volumeSnapshotClassDrivers
                : [],
        dataMoverNodeLabels,
        plugins: parsePlugins(r, imageRegistry),
        userValues: parseUserValues(r, "veleroValues", VELERO_GUARDED, imageRegistry),
    };
}

const TIER_KEYS = [
    { key: "daily", cron: "backupSchedule", ttl: "backupTtl", exampleTtl: "720h" },
    { key: "weekly", cron: "weeklyBackupSchedule", ttl: "weeklyBackupTtl", exampleTtl: "744h" },
    { key: "monthly", cron: "monthlyBackupSchedule", ttl: "monthlyBackupTtl", exampleTtl: "744h" },
] as const;

/** The backup tiers: the daily one always (protect, recover), weekly and monthly when their TTL is set. */
export function parseSchedules(
    r: ConfigReader,
    mode: Mode,
    clusterName: string | undefined,
    lockDays: number | undefined,
): BackupTier[] {
    const tiers: BackupTier[] = [];
    if (mode === "drill") {
        // A drill must never write into the vault: no schedule at all, so there is nothing to misconfigure.
        for (const t of TIER_KEYS) {
            r.forbidInMode(t.cron, mode, "a drill is read-only towards the backups and takes none");
            r.forbidInMode(t.ttl, mode, "a drill is read-only towards the backups and takes none");
        }
        return tiers;
    }
    for (const t of TIER_KEYS) {
        const enabled = t.key === "daily" || r.isSet(t.ttl);
        if (!enabled) {
            if (r.isSet(t.cron)) {
                r.problem(
                    t.cron,
                    `${q(r.explicit(t.cron)!)} is set but ${t.ttl} is not, so the ${t.key} tier is off. Fix: \`${setCmd(t.ttl, t.exampleTtl)}\` or \`${rmCmd(t.cron)}\`.`,
                );
            }
            continue;
        }
        const cron = r.str(t.cron) ?? DERIVED_DEFAULTS[t.cron];
        let cronIssue = cronProblem(cron);
        if (cronIssue !== undefined) {
            r.problem(t.cron, `${q(cron)} ${cronIssue}. Fix: \`${setCmd(t.cron, `'${DERIVED_DEFAULTS[t.cron]}'`)}\`.`);
        } else {
            // Each backup stays locked, and billed, for lockDays whatever its TTL: a schedule firing every minute
            // would pile up 1440 locked backups a day that nobody can delete.
            const gap = shortestGapHours(cron);
            if (gap !== undefined && gap < MIN_BACKUP_INTERVAL_HOURS) {
                cronIssue = "fires too often";
                r.problem(
                    t.cron,
                    `${q(cron)} runs as often as every ${+(gap * 60).toFixed(2)} minutes; every backup stays locked and billed for lockDays, so gitops-dr takes at most one an hour. Fix: \`${setCmd(t.cron, `'${DERIVED_DEFAULTS[t.cron]}'`)}\`.`,
                );
            }
        }
        const ttl = r.str(t.ttl) ?? (t.key === "daily" ? DERIVED_DEFAULTS.backupTtl : "");
        const hours = parseDurationHours(ttl);
        if (hours !== undefined && hours <= 0) {
            r.problem(t.ttl, `${q(ttl)} would keep no backup at all. Fix: \`${setCmd(t.ttl, t.exampleTtl)}\`.`);
        } else if (hours === undefined) {
            r.problem(
                t.ttl,
                `${q(ttl)} is not a Go duration (time.ParseDuration: a number and a unit h, m, s, ms, us or ns, e.g. 720h or 36.5h; no days). Fix: \`${setCmd(t.ttl, t.exampleTtl)}\`.`,
            );
        } else if (lockDays !== undefined && hours > lockDays * 24) {
            r.problem(
                t.ttl,
                `${q(ttl)} (${+(hours / 24).toFixed(2)} days) outlives the Object Lock retention of ${lockDays} days: the backup's last days would be unlocked and deletable. Fix: \`${setCmd(t.ttl, `${lockDays * 24}h`)}\` or raise lockDays to at least ${Math.ceil(hours / 24)}.`,
            );
        }
        if (cronIssue === undefined && hours !== undefined && hours > 0) {
            tiers.push({ key: t.key, name: `${clusterName ?? ""}-${t.key}`, cron, ttl, ttlHours: hours });
        }
    }
    return tiers;
}

/** An image reference with a tag or a digest: `[registry/]repository(:tag|@sha256:...)`. */
const PINNED_IMAGE =
    /^([a-z0-9][a-z0-9._-]*(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/;

/**
 * `veleroPlugins`: images of Velero plugins besides the AWS one (e.g. a plugin for another object store), each
 * with a tag or digest so a recovery pulls what was tested, from the mirror when `imageRegistry` is set; they
 * run as init containers after the AWS plugin (velero chart 12.1.0 `initContainers`).
 */
function parsePlugins(r: ConfigReader, imageRegistry: string | undefined): string[] {
    const plugins = r.list("veleroPlugins", ["registry.acme.internal/velero/velero-plugin-for-gcp:v1.14.0"]);
    const names = new Set<string>();
    let ok = true;
    for (const image of plugins) {
        const example = `${imageRegistry ?? "docker.io"}/velero/velero-plugin-for-gcp:v1.14.0`;
        const fix = `Fix: \`pulumi config set --path 'gitops-dr:veleroPlugins[${plugins.indexOf(image)}]' ${example}\`.`;
        const tag = /:([^/:@]+)$/.exec(image)?.[1];
        if (!PINNED_IMAGE.test(image) || tag === "latest") {
            ok = false;
            r.problem(
                "veleroPlugins",
                `${q(image)} is not an image pinned by a tag or digest (latest is not a pin): a recovery must pull the plugin that was tested. ${fix}`,
            );
        } else if (imageRegistry !== undefined && !image.startsWith(`${imageRegistry}/`)) {
            ok = false;
            r.problem(
                "veleroPlugins",
                `${q(image)} is not in gitops-dr:imageRegistry ${q(imageRegistry)}: every image comes from the mirror, so a recovery needs no public registry. ${fix}`,
            );
        }
        const name = pluginContainerName(image);
        if (names.has(name) || name === "velero-plugin-for-aws") {
            ok = false;
            r.problem(
                "veleroPlugins",
                `${q(image)} is a second ${name}: each plugin runs once${name === "velero-plugin-for-aws" ? " (the AWS plugin is pinned: gitops-dr:awsPluginVersion)" : ""}. Fix: \`pulumi config rm --path 'gitops-dr:veleroPlugins[${plugins.indexOf(image)}]'\`.`,
            );
        }
        names.add(name);
    }
    return ok ? plugins : [];
}
