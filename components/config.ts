/**
 * The stack configuration: every key gitops-dr reads, declared once, read once, validated once.
 *
 * `CONFIG_KEYS` is the single source of truth: `Pulumi.yaml` declares the same keys with the same types,
 * descriptions and defaults (a test keeps them in sync), and the README's inputs table is checked against it.
 * `loadConfig()` is the only place in the program that touches `pulumi.Config`; everything else receives the
 * frozen {@link StackConfig} it returns.
 */
import * as pulumi from "@pulumi/pulumi";
import { CronExpressionParser } from "cron-parser";

import { VELERO_AWS_PLUGIN } from "./versions";

/** The Pulumi project name, which is also the config namespace. */
export const PROJECT = "gitops-dr";

/** What a stack does with the cluster it points at. */
export type Mode =
    /** The live cluster: creates (or joins) the vault and backs up daily. */
    | "protect"
    /** A new cluster replacing a lost one: restores the lost cluster's backups, then protects itself. */
    | "recover"
    /** A throwaway rebuild from prod's backups, strictly read-only towards them. */
    | "drill";
export const MODES: readonly Mode[] = ["protect", "recover", "drill"];

export type LockMode = "GOVERNANCE" | "COMPLIANCE";
export const LOCK_MODES: readonly LockMode[] = ["GOVERNANCE", "COMPLIANCE"];

export type CredentialsMode = "irsa" | "podIdentity" | "staticKeys";
export const CREDENTIALS_MODES: readonly CredentialsMode[] = ["irsa", "podIdentity", "staticKeys"];

export type VolumeDataMode = "dataMover" | "nativeSnapshots";
export const VOLUME_DATA_MODES: readonly VolumeDataMode[] = ["dataMover", "nativeSnapshots"];

/** S3 storage classes a lifecycle rule may move backups to (instant-access classes only, see `storageTransitions`). */
export type TransitionStorageClass = "STANDARD_IA" | "INTELLIGENT_TIERING" | "GLACIER_IR";

/** The types Pulumi.yaml can declare for a project config key. */
export type ConfigKeyType = "string" | "integer" | "boolean" | "array";

/** One declared config key. */
export interface ConfigKeySpec {
    readonly type: ConfigKeyType;
    readonly description: string;
    /** The default, also declared in Pulumi.yaml. Absent when the default depends on other keys or the mode. */
    readonly default?: string | number | boolean | readonly string[];
    /** Must be set with `pulumi config set --secret`. */
    readonly secret?: boolean;
}

/**
 * Every key of the `gitops-dr:` namespace. Keys without a `default` here either are required or have a default
 * that depends on the mode or on other keys; their description says which.
 */
export const CONFIG_KEYS = {
    mode: {
        type: "string",
        description: "What this stack does: protect (live cluster, creates or joins the vault, backs up), recover (restores a lost cluster, then protects itself) or drill (read-only rebuild test from prod's backups).",
        default: "protect",
    },
    clusterName: {
        type: "string",
        description: "Name of the cluster this stack runs against (lowercase letters, digits, hyphens). Names the IAM role and is the default prefix. Required.",
    },
    kubeContext: {
        type: "string",
        description: "kubeconfig context of the target cluster. Empty uses the current context.",
        default: "",
    },
    region: {
        type: "string",
        description: "AWS region of the vault bucket. Required unless sourceStack provides it (recover, drill).",
    },
    bucketName: {
        type: "string",
        description: "Name of the vault bucket: created by a protect stack with createBucket, otherwise an existing one. Required unless sourceStack provides it (recover, drill).",
    },
    createBucket: {
        type: "boolean",
        description: "protect only: create the vault (bucket, KMS key, replica). false joins a vault another protect stack created. Defaults to true in protect; recover and drill never create a bucket.",
    },
    prefix: {
        type: "string",
        description: "Prefix under which this cluster writes its backups in the vault (protect, recover). Defaults to clusterName.",
    },
    kmsKeyArn: {
        type: "string",
        description: "ARN of the vault's KMS key. Empty in a protect stack that creates the vault makes a new customer-managed key; required when joining or reading an existing vault unless sourceStack provides it.",
        default: "",
    },
    lockMode: {
        type: "string",
        description: "Default Object Lock retention mode of the vault: COMPLIANCE (nobody, not even the account root, can delete a locked version before it expires) or GOVERNANCE (principals with s3:BypassGovernanceRetention can).",
        default: "COMPLIANCE",
    },
    lockDays: {
        type: "integer",
        description: "Default Object Lock retention in days. Must cover every backup TTL so that every backup Velero lists is locked; the default leaves a day over the 720h TTL for Velero's hourly garbage collection.",
        default: 31,
    },
    noncurrentVersionExpirationDays: {
        type: "integer",
        description: "Days after an object version becomes noncurrent (Velero deleted it) before S3 removes it. At least lockDays. Defaults to lockDays.",
    },
    abortIncompleteMultipartUploadDays: {
        type: "integer",
        description: "Days after which S3 aborts an unfinished multipart upload and frees its parts.",
        default: 7,
    },
    storageTransitions: {
        type: "array",
        description: "Lifecycle transitions of current backup objects, as \"STORAGE_CLASS:days\" in the order they happen, e.g. [\"STANDARD_IA:30\", \"GLACIER_IR:90\"]. Only instant-access classes (STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR).",
        default: [],
    },
    replicaRegion: {
        type: "string",
        description: "protect with createBucket: AWS region of the off-site replica bucket. Empty disables the replica.",
        default: "",
    },
    replicaBucketName: {
        type: "string",
        description: "Name of the replica bucket. Defaults to <bucketName>-replica.",
    },
    sourceStack: {
        type: "string",
        description: "recover, drill: fully qualified name (org/gitops-dr/stack) of the protect stack whose outputs give bucketName, region, kmsKeyArn and sourcePrefix. Explicit keys win over its outputs.",
        default: "",
    },
    sourcePrefix: {
        type: "string",
        description: "recover, drill: prefix of the cluster whose backups are restored. Required unless sourceStack provides it.",
    },
    credentialsMode: {
        type: "string",
        description: "How Velero gets AWS credentials: irsa (IAM role for service accounts), podIdentity (EKS Pod Identity) or staticKeys (an access key pair, set as secrets).",
        default: "irsa",
    },
    oidcProviderArn: {
        type: "string",
        description: "irsa: ARN of the cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>).",
    },
    eksClusterName: {
        type: "string",
        description: "podIdentity: name of the EKS cluster the association is made in. Defaults to clusterName.",
    },
    awsAccessKeyId: {
        type: "string",
        description: "staticKeys: access key id of the IAM user Velero runs as. Secret.",
        secret: true,
    },
    awsSecretAccessKey: {
        type: "string",
        description: "staticKeys: secret access key of the IAM user Velero runs as. Secret.",
        secret: true,
    },
    repoPassword: {
        type: "string",
        description: "Password of Velero's kopia repository (the velero-repo-credentials Secret). The same in every stack that reads these backups; keep a copy outside the cluster. Secret, at least 16 characters. Required.",
        secret: true,
    },
    veleroNamespace: {
        type: "string",
        description: "Namespace Velero is installed in.",
        default: "velero",
    },
    veleroReleaseName: {
        type: "string",
        description: "Helm release name of Velero. The chart names its objects from it (the schedule becomes <release>-daily when the name contains \"velero\").",
        default: "velero",
    },
    volumeDataMode: {
        type: "string",
        description: "How volume data is backed up: dataMover (CSI snapshots copied by kopia into the locked bucket; any zone or region) or nativeSnapshots (EBS snapshots: zonal, regional, not under Object Lock).",
        default: "dataMover",
    },
    awsPluginVersion: {
        type: "string",
        description: "Tag of the velero-plugin-for-aws image. Must be on the v1.14 line, the one that pairs with Velero 1.18.",
        default: VELERO_AWS_PLUGIN.tag,
    },
    backupSchedule: {
        type: "string",
        description: "Cron expression (5 fields, UTC) of the daily backup. Defaults to \"0 2 * * *\" in protect and recover; a drill takes no backups and must leave it unset.",
    },
    backupTtl: {
        type: "string",
        description: "How long Velero keeps each daily backup, as a Go duration (e.g. 720h). At most lockDays. Defaults to 720h; must be unset in a drill.",
    },
    weeklyBackupTtl: {
        type: "string",
        description: "Enables a weekly tier (grandfather-father-son retention) kept this long, e.g. 2160h. Unset disables it. At most lockDays.",
    },
    weeklyBackupSchedule: {
        type: "string",
        description: "Cron expression of the weekly tier. Defaults to \"0 3 * * 0\" (Sundays 03:00 UTC) when weeklyBackupTtl is set.",
    },
    monthlyBackupTtl: {
        type: "string",
        description: "Enables a monthly tier kept this long, e.g. 8760h. Unset disables it. At most lockDays.",
    },
    monthlyBackupSchedule: {
        type: "string",
        description: "Cron expression of the monthly tier. Defaults to \"0 4 1 * *\" (the 1st, 04:00 UTC) when monthlyBackupTtl is set.",
    },
    excludedNamespaces: {
        type: "array",
        description: "Namespaces whose PVCs and Secrets are not backed up, on top of kube-system, kube-public, kube-node-lease, Velero's and Argo CD's own.",
        default: [],
    },
    prometheusOperator: {
        type: "boolean",
        description: "The Prometheus operator runs in the cluster: create a ServiceMonitor and a PrometheusRule with Velero's alerts.",
        default: false,
    },
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

/** Defaults that depend on the mode or on other keys (the ones CONFIG_KEYS cannot declare). */
export const DERIVED_DEFAULTS = {
    backupSchedule: "0 2 * * *",
    backupTtl: "720h",
    weeklyBackupSchedule: "0 3 * * 0",
    monthlyBackupSchedule: "0 4 1 * *",
} as const;

/** A lifecycle transition of current backup objects. */
export interface StorageTransition {
    readonly storageClass: TransitionStorageClass;
    readonly days: number;
}

/** One Velero backup schedule (the daily one, or a longer-lived tier). */
export interface BackupTier {
    /** Schedule key in the chart's `schedules` map; the Schedule object is `<fullname>-<key>`. */
    readonly key: "daily" | "weekly" | "monthly";
    readonly cron: string;
    /** Go duration, e.g. `720h`. */
    readonly ttl: string;
    readonly ttlHours: number;
}

/** Where the vault is and how it is configured. */
export interface VaultSettings {
    /** protect only: this stack creates the bucket, its KMS key and the replica. */
    readonly create: boolean;
    /** Absent when `sourceStack` provides it. */
    readonly bucketName?: string;
    /** Absent when `sourceStack` provides it. */
    readonly region?: string;
    /** Absent when the vault creates its key or `sourceStack` provides it. */
    readonly kmsKeyArn?: string;
    readonly lockMode: LockMode;
    readonly lockDays: number;
    readonly noncurrentVersionExpirationDays: number;
    readonly abortIncompleteMultipartUploadDays: number;
    readonly transitions: readonly StorageTransition[];
    readonly replica?: { readonly region: string; readonly bucketName: string };
}

/** The backups a recover or drill stack restores from. */
export interface SourceSettings {
    /** Fully qualified name of the protect stack; its outputs fill what is not set explicitly. */
    readonly stack?: string;
    /** Prefix of the lost (or prod) cluster. Absent when `stack` provides it. */
    readonly prefix?: string;
}

export type CredentialSettings =
    | { readonly mode: "irsa"; readonly oidcProviderArn: string }
    | { readonly mode: "podIdentity"; readonly eksClusterName: string }
    | {
          readonly mode: "staticKeys";
          readonly accessKeyId: pulumi.Output<string>;
          readonly secretAccessKey: pulumi.Output<string>;
      };

export interface VeleroSettings {
    readonly namespace: string;
    readonly releaseName: string;
    readonly volumeDataMode: VolumeDataMode;
    readonly awsPluginVersion: string;
    /** Empty in a drill: it takes no backups. */
    readonly tiers: readonly BackupTier[];
    readonly excludedNamespaces: readonly string[];
    /** kopia repository password, always a secret. */
    readonly repoPassword: pulumi.Output<string>;
}

/** The whole validated stack configuration. Deeply frozen. */
export interface StackConfig {
    readonly project: string;
    readonly stack: string;
    readonly mode: Mode;
    readonly clusterName: string;
    /** Empty string: the kubeconfig's current context. */
    readonly kubeContext: string;
    /** Prefix this cluster writes its own backups under; absent in a drill, which writes none. */
    readonly prefix?: string;
    readonly vault: VaultSettings;
    /** Present in recover and drill. */
    readonly source?: SourceSettings;
    readonly credentials: CredentialSettings;
    readonly velero: VeleroSettings;
    readonly monitoring: { readonly prometheusOperator: boolean };
}

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

/** Thrown by {@link parseConfig} with every problem found, so one run reports them all. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: readonly ConfigProblem[]) {
        super(
            `gitops-dr: the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
        );
    }
}

// --- Parsing helpers --------------------------------------------------------------------------------------

/** A Go duration as Velero's `ttl` fields take it, in whole hours, minutes and seconds. */
const GO_DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Hours in a Go duration string such as `720h` or `1h30m`, or undefined when it is not one. */
export function parseDurationHours(value: string): number | undefined {
    const m = GO_DURATION.exec(value);
    if (value === "" || m === null) {
        return undefined;
    }
    const [h, min, s] = [m[1], m[2], m[3]].map((x) => Number(x ?? "0"));
    return h + min / 60 + s / 3600;
}

/** robfig/cron descriptors that Velero's schedule parser (cron.ParseStandard) also accepts. */
const CRON_DESCRIPTORS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

/** Why `expr` is not a cron expression Velero accepts, or undefined when it is one. */
export function cronProblem(expr: string): string | undefined {
    const trimmed = expr.trim();
    if (CRON_DESCRIPTORS.has(trimmed)) {
        return undefined;
    }
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 5) {
        return `has ${fields.length} field${fields.length === 1 ? "" : "s"}; Velero takes 5 (minute hour day-of-month month day-of-week)`;
    }
    // cron-parser accepts more than robfig/cron v3's ParseStandard, which Velero uses: no L, W, #, ? or H
    // extensions, and day-of-week 0-6 only.
    if (fields.some((f) => !/^[0-9A-Za-z*,/-]+$/.test(f) || /[LW#?H]/.test(f.replace(/[A-Z]{3}/gi, "")))) {
        return "uses a character Velero's cron parser does not accept (only digits, names, *, commas, ranges and steps)";
    }
    if ((fields[4].match(/\d+/g) ?? []).some((n) => Number(n) > 6)) {
        return "has a day of week above 6; Velero's cron parser takes 0-6 (Sunday is 0)";
    }
    try {
        CronExpressionParser.parse(trimmed, { tz: "UTC" }).next();
        return undefined;
    } catch (e) {
        return `is not a valid cron expression (${(e as Error).message})`;
    }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const KMS_KEY_ARN = /^arn:aws[-a-z]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/;
const OIDC_PROVIDER_ARN = /^arn:aws[-a-z]*:iam::\d{12}:oidc-provider\/.+$/;
const STACK_NAME = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/;
const PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;

/** Whether `name` is a valid S3 general purpose bucket name (AWS "Bucket naming rules"). */
export function isValidBucketName(name: string): boolean {
    return (
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
        !name.includes("..") &&
        !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
        !name.startsWith("xn--") &&
        !name.startsWith("sthree-") &&
        !name.startsWith("amzn-s3-demo-") &&
        !name.endsWith("-s3alias") &&
        !name.endsWith("--ol-s3") &&
        !name.endsWith(".mrap") &&
        !name.endsWith("--x-s3") &&
        !name.endsWith("--table-s3")
    );
}

/**
 * The storage classes a current backup object may move to, in the order S3's lifecycle "waterfall" allows, with
 * the fewest days after creation S3 accepts for each (AWS: "Transitioning objects using Amazon S3 Lifecycle").
 * GLACIER and DEEP_ARCHIVE are not here on purpose: Velero and kopia read objects directly, and an archived
 * object must be restored by hand before it can be read, so a recovery would stall. ONEZONE_IA keeps a single
 * copy in one zone, which weakens the backup.
 */
export const TRANSITION_CLASSES: readonly { readonly storageClass: TransitionStorageClass; readonly minDays: number }[] = [
    { storageClass: "STANDARD_IA", minDays: 30 },
    { storageClass: "INTELLIGENT_TIERING", minDays: 0 },
    { storageClass: "GLACIER_IR", minDays: 0 },
];

/** Days an object must stay in STANDARD_IA before a later transition (AWS lifecycle constraints). */
export const MIN_DAYS_IN_STANDARD_IA = 30;

const REJECTED_CLASSES: Readonly<Record<string, string>> = {
    GLACIER: "archived objects cannot be read by Velero or kopia until restored by hand, which stalls a recovery",
    DEEP_ARCHIVE: "archived objects cannot be read by Velero or kopia until restored by hand, which stalls a recovery",
    ONEZONE_IA: "it keeps the data in a single Availability Zone, which weakens the backup",
    STANDARD: "objects start in STANDARD; list only the classes they move to",
};

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length];
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object" && !pulumi.Output.isInstance(value) && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value as object)) {
            deepFreeze(v);
        }
    }
    return value;
}

/**
 * Validates raw configuration and returns the typed, frozen stack configuration. Collects every problem and
 * throws one {@link ConfigError} naming each key, its value and the fix.
 */
export function parseConfig(raw: RawConfig, stack: string): StackConfig {
    const problems: ConfigProblem[] = [];
    const fq = (key: string) => `${PROJECT}:${key}`;
    const problem = (key: string, message: string) => problems.push({ key: fq(key), message });
    const q = (v: string) => JSON.stringify(v);
    const setCmd = (key: string, example: string, secret = false) =>
        `pulumi config set ${secret ? "--secret " : ""}${fq(key)} ${example}`;

    // Unknown keys are typos until proven otherwise: a misspelt lockDays must not silently fall back to a default.
    const known = Object.keys(CONFIG_KEYS);
    for (const key of Object.keys(raw)) {
        if (!known.includes(key)) {
            const closest = known.reduce((best, k) => (distance(key, k) < distance(key, best) ? k : best));
            const hint = distance(key, closest) <= 3 ? `did you mean ${fq(closest)}? ` : "";
            problem(key, `is not a gitops-dr setting; ${hint}Remove it with \`pulumi config rm ${fq(key)}\`.`);
        }
    }

    const isSet = (key: ConfigKey) => raw[key] !== undefined && raw[key].value !== "";
    const str = (key: ConfigKey): string | undefined => {
        const v = raw[key]?.value;
        if (v !== undefined && v !== "") {
            return v;
        }
        const d = (CONFIG_KEYS[key] as ConfigKeySpec).default;
        return typeof d === "string" && d !== "" ? d : undefined;
    };
    const oneOf = <T extends string>(key: ConfigKey, allowed: readonly T[]): T | undefined => {
        const v = str(key);
        if (v !== undefined && !allowed.includes(v as T)) {
            const d = (CONFIG_KEYS[key] as ConfigKeySpec).default;
            problem(key, `${q(v)} is not one of ${allowed.join(", ")}. Fix: \`${setCmd(key, typeof d === "string" ? d : allowed[0])}\`.`);
            return undefined;
        }
        return v as T | undefined;
    };
    const int = (key: ConfigKey, min: number, max: number, fallback?: number): number | undefined => {
        const v = raw[key]?.value;
        if (v === undefined || v === "") {
            const d = (CONFIG_KEYS[key] as ConfigKeySpec).default;
            return typeof d === "number" ? d : fallback;
        }
        const n = Number(v);
        const d = (CONFIG_KEYS[key] as ConfigKeySpec).default;
        const example = String(typeof d === "number" ? d : (fallback ?? Math.max(min, 1)));
        if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
            problem(key, `${q(v)} is not a whole number. Fix: \`${setCmd(key, example)}\`.`);
            return undefined;
        }
        if (n < min || n > max) {
            problem(key, `${n} is out of range; it must be between ${min} and ${max}. Fix: \`${setCmd(key, example)}\`.`);
            return undefined;
        }
        return n;
    };
    const bool = (key: ConfigKey, fallback: boolean): boolean => {
        const v = raw[key]?.value;
        if (v === undefined || v === "") {
            const d = (CONFIG_KEYS[key] as ConfigKeySpec).default;
            return typeof d === "boolean" ? d : fallback;
        }
        if (v !== "true" && v !== "false") {
            problem(key, `${q(v)} is not a boolean. Fix: \`${setCmd(key, "true")}\` or \`false\`.`);
            return fallback;
        }
        return v === "true";
    };
    const list = (key: ConfigKey): string[] => {
        const v = raw[key]?.value;
        if (v === undefined || v === "") {
            return [];
        }
        let parsed: unknown;
        try {
            parsed = JSON.parse(v);
        } catch {
            parsed = undefined;
        }
        if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== "string")) {
            problem(key, `${q(v)} is not a list of strings. Fix: set it as a YAML list in Pulumi.${stack}.yaml, or \`pulumi config set --path '${fq(key)}[0]' <value>\`.`);
            return [];
        }
        return parsed as string[];
    };
    const secret = (key: ConfigKey, required: boolean, example: string): pulumi.Output<string> | undefined => {
        const r = raw[key];
        if (r === undefined || r.value === "") {
            if (required) {
                problem(key, `is required. Fix: \`${setCmd(key, example, true)}\`.`);
            }
            return undefined;
        }
        if (!r.secret) {
            // Never echo the value itself: it is a credential that already sits in plain text in the stack file.
            problem(key, `is set in plain text; it is a credential and must be encrypted. Fix: \`${setCmd(key, "<value>", true)}\`.`);
            return undefined;
        }
        return pulumi.secret(r.value);
    };
    const forbidInMode = (key: ConfigKey, mode: Mode, why: string) => {
        if (isSet(key)) {
            problem(key, `${q(raw[key].value)} cannot be set in a ${mode} stack: ${why}. Fix: \`pulumi config rm ${fq(key)}\`.`);
        }
    };

    // --- Mode and identity ---
    const mode = oneOf("mode", MODES) ?? "protect";
    const clusterName = str("clusterName");
    if (clusterName === undefined) {
        problem("clusterName", `is required. Fix: \`${setCmd("clusterName", "prod-eu-1")}\`.`);
    } else if (!DNS_LABEL.test(clusterName) || clusterName.length > 40) {
        problem("clusterName", `${q(clusterName)} must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit (it names IAM roles). Fix: \`${setCmd("clusterName", "prod-eu-1")}\`.`);
    }
    const kubeContext = str("kubeContext") ?? "";

    // --- Where the vault is ---
    const sourceStack = str("sourceStack");
    if (sourceStack !== undefined && !STACK_NAME.test(sourceStack)) {
        problem("sourceStack", `${q(sourceStack)} is not a stack name. Fix: \`${setCmd("sourceStack", "acme/gitops-dr/prod")}\`.`);
    }
    const fromSource = mode !== "protect" && sourceStack !== undefined;

    const region = str("region");
    if (region !== undefined && !AWS_REGION.test(region)) {
        problem("region", `${q(region)} is not an AWS region. Fix: \`${setCmd("region", "eu-west-1")}\`.`);
    } else if (region === undefined && !fromSource) {
        problem("region", `is required${mode === "protect" ? "" : " (or set sourceStack)"}. Fix: \`${setCmd("region", "eu-west-1")}\`.`);
    }

    const bucketName = str("bucketName");
    if (bucketName !== undefined && !isValidBucketName(bucketName)) {
        problem("bucketName", `${q(bucketName)} is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit). Fix: \`${setCmd("bucketName", "acme-velero-vault")}\`.`);
    } else if (bucketName === undefined && !fromSource) {
        problem("bucketName", mode === "protect"
            ? `is required: the vault bucket to create or join. Fix: \`${setCmd("bucketName", "acme-velero-vault")}\`.`
            : `is required: a ${mode} stack needs the source bucket. Fix: \`${setCmd("sourceStack", "acme/gitops-dr/prod")}\` or \`${setCmd("bucketName", "acme-velero-vault")}\`.`);
    }

    let create = false;
    if (mode === "protect") {
        create = bool("createBucket", true);
    } else if (isSet("createBucket") && raw.createBucket.value !== "false") {
        problem("createBucket", `${q(raw.createBucket.value)}: a ${mode} stack never creates a bucket; it reads the existing vault. Fix: \`pulumi config rm ${fq("createBucket")}\`.`);
    }

    const kmsKeyArn = str("kmsKeyArn");
    if (kmsKeyArn !== undefined && !KMS_KEY_ARN.test(kmsKeyArn)) {
        problem("kmsKeyArn", `${q(kmsKeyArn)} is not a KMS key ARN (an alias cannot be granted in IAM or matched by the bucket policy). Fix: \`${setCmd("kmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:key/<key-id>")}\`.`);
    } else if (kmsKeyArn === undefined && !create && !fromSource) {
        problem("kmsKeyArn", `is required when the stack uses an existing vault: Velero encrypts with the vault's key. Fix: \`${setCmd("kmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:key/<key-id>")}\`${mode === "protect" ? "" : " or set sourceStack"}.`);
    }

    // --- Lock and lifecycle ---
    const lockMode = oneOf("lockMode", LOCK_MODES) ?? "COMPLIANCE";
    const lockDays = int("lockDays", 1, 36500);
    const noncurrentVersionExpirationDays = int("noncurrentVersionExpirationDays", 1, 36500, lockDays);
    if (lockDays !== undefined && noncurrentVersionExpirationDays !== undefined && noncurrentVersionExpirationDays < lockDays) {
        problem("noncurrentVersionExpirationDays", `${noncurrentVersionExpirationDays} is shorter than lockDays (${lockDays}): S3 would try to expire versions that are still locked, and storage would be billed as if they were gone. Fix: \`${setCmd("noncurrentVersionExpirationDays", String(lockDays))}\` or leave it unset to follow lockDays.`);
    }
    const abortIncompleteMultipartUploadDays = int("abortIncompleteMultipartUploadDays", 1, 365);
    const transitions = parseTransitions(list("storageTransitions"), (m) => problem("storageTransitions", m), setCmd("storageTransitions", "'[\"STANDARD_IA:30\"]'"));

    // --- Replica ---
    let replica: VaultSettings["replica"];
    const replicaRegion = str("replicaRegion");
    if (replicaRegion !== undefined) {
        if (!create) {
            problem("replicaRegion", `${q(replicaRegion)}: only the stack that creates the vault configures its replica. Fix: \`pulumi config rm ${fq("replicaRegion")}\`.`);
        } else if (!AWS_REGION.test(replicaRegion)) {
            problem("replicaRegion", `${q(replicaRegion)} is not an AWS region. Fix: \`${setCmd("replicaRegion", "eu-central-1")}\`.`);
        } else if (replicaRegion === region) {
            problem("replicaRegion", `${q(replicaRegion)} is the vault's own region; an off-site replica must survive the loss of that region. Fix: \`${setCmd("replicaRegion", region === "eu-central-1" ? "eu-west-1" : "eu-central-1")}\` (another region).`);
        } else {
            const replicaBucketName = str("replicaBucketName") ?? `${bucketName ?? ""}-replica`;
            if (!isValidBucketName(replicaBucketName)) {
                problem("replicaBucketName", `${q(replicaBucketName)} is not a valid S3 bucket name. Fix: \`${setCmd("replicaBucketName", "acme-velero-vault-replica")}\`.`);
            } else if (replicaBucketName === bucketName) {
                problem("replicaBucketName", `${q(replicaBucketName)} is the vault bucket itself. Fix: \`${setCmd("replicaBucketName", `${bucketName}-replica`)}\`.`);
            }
            replica = { region: replicaRegion, bucketName: replicaBucketName };
        }
    } else if (isSet("replicaBucketName")) {
        problem("replicaBucketName", `${q(raw.replicaBucketName.value)} is set but replicaRegion is not, so no replica is made. Fix: \`${setCmd("replicaRegion", "eu-central-1")}\` or \`pulumi config rm ${fq("replicaBucketName")}\`.`);
    }

    // --- Prefixes ---
    let prefix: string | undefined;
    if (mode === "drill") {
        forbidInMode("prefix", mode, "a drill writes no backups");
    } else {
        prefix = str("prefix") ?? clusterName;
        if (prefix !== undefined && (!PREFIX.test(prefix) || prefix.length > 200)) {
            problem("prefix", `${q(prefix)} must be path segments of letters, digits and !_.*'()- separated by single slashes, with no leading or trailing slash. Fix: \`${setCmd("prefix", "prod-eu-1")}\`.`);
            prefix = undefined;
        }
    }
    let source: SourceSettings | undefined;
    if (mode === "protect") {
        forbidInMode("sourceStack", mode, "a protect stack restores nothing");
        forbidInMode("sourcePrefix", mode, "a protect stack restores nothing");
    } else {
        const sourcePrefix = str("sourcePrefix");
        if (sourcePrefix !== undefined && !PREFIX.test(sourcePrefix)) {
            problem("sourcePrefix", `${q(sourcePrefix)} must be path segments separated by single slashes, with no leading or trailing slash. Fix: \`${setCmd("sourcePrefix", "prod-eu-1")}\`.`);
        } else if (sourcePrefix === undefined && sourceStack === undefined) {
            problem("sourcePrefix", `is required: a ${mode} stack needs the prefix of the backups it restores. Fix: \`${setCmd("sourcePrefix", "prod-eu-1")}\` or \`${setCmd("sourceStack", "acme/gitops-dr/prod")}\`.`);
        }
        if (mode === "recover" && sourcePrefix !== undefined && prefix !== undefined && sourcePrefix === prefix) {
            problem("prefix", `${q(prefix)} is also the sourcePrefix: the recovered cluster would write its new backups over the ones it restores from. Fix: \`${setCmd("prefix", `${prefix}-recovered`)}\`.`);
        }
        source = { stack: sourceStack, prefix: sourcePrefix };
    }

    // --- Credentials ---
    const credentialsMode = oneOf("credentialsMode", CREDENTIALS_MODES) ?? "irsa";
    let credentials: CredentialSettings | undefined;
    switch (credentialsMode) {
        case "irsa": {
            const arn = str("oidcProviderArn");
            if (arn === undefined) {
                problem("oidcProviderArn", `is required with credentialsMode irsa. Fix: \`${setCmd("oidcProviderArn", "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE")}\` (aws eks describe-cluster --query cluster.identity.oidc.issuer).`);
            } else if (!OIDC_PROVIDER_ARN.test(arn)) {
                problem("oidcProviderArn", `${q(arn)} is not an IAM OIDC provider ARN. Fix: \`${setCmd("oidcProviderArn", "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE")}\`.`);
            } else {
                credentials = { mode: "irsa", oidcProviderArn: arn };
            }
            break;
        }
        case "podIdentity":
            credentials = { mode: "podIdentity", eksClusterName: str("eksClusterName") ?? clusterName ?? "" };
            break;
        case "staticKeys": {
            const accessKeyId = secret("awsAccessKeyId", true, "AKIA...");
            const secretAccessKey = secret("awsSecretAccessKey", true, "<secret-access-key>");
            if (accessKeyId !== undefined && secretAccessKey !== undefined) {
                credentials = { mode: "staticKeys", accessKeyId, secretAccessKey };
            }
            break;
        }
        default: {
            const unreachable: never = credentialsMode;
            throw new Error(`unhandled credentials mode ${String(unreachable)}`);
        }
    }
    if (credentialsMode !== "staticKeys") {
        for (const key of ["awsAccessKeyId", "awsSecretAccessKey"] as const) {
            if (isSet(key)) {
                problem(key, `is set but credentialsMode is ${credentialsMode}; unused credentials are a liability. Fix: \`pulumi config rm ${fq(key)}\` or \`${setCmd("credentialsMode", "staticKeys")}\`.`);
            }
        }
    }

    // --- Velero ---
    const repoPassword = secret("repoPassword", true, "\"$(openssl rand -base64 32)\"");
    if (repoPassword !== undefined && raw.repoPassword.value.length < 16) {
        problem("repoPassword", `is ${raw.repoPassword.value.length} characters long; kopia's repository password must be at least 16. Fix: \`${setCmd("repoPassword", "\"$(openssl rand -base64 32)\"", true)}\`.`);
    }
    const namespace = str("veleroNamespace") ?? "velero";
    if (!DNS_LABEL.test(namespace) || namespace.length > 63) {
        problem("veleroNamespace", `${q(namespace)} is not a valid namespace name (RFC 1123 label). Fix: \`${setCmd("veleroNamespace", "velero")}\`.`);
    }
    const releaseName = str("veleroReleaseName") ?? "velero";
    if (!DNS_LABEL.test(releaseName) || releaseName.length > 53) {
        problem("veleroReleaseName", `${q(releaseName)} is not a valid Helm release name (lowercase letters, digits, hyphens; at most 53). Fix: \`${setCmd("veleroReleaseName", "velero")}\`.`);
    }
    const volumeDataMode = oneOf("volumeDataMode", VOLUME_DATA_MODES) ?? "dataMover";
    const awsPluginVersion = str("awsPluginVersion") ?? VELERO_AWS_PLUGIN.tag;
    if (!new RegExp(`^${VELERO_AWS_PLUGIN.compatibleLine.replace(".", "\\.")}\\.\\d+$`).test(awsPluginVersion)) {
        problem("awsPluginVersion", `${q(awsPluginVersion)} does not pair with Velero 1.18 (chart 12.1.0); the velero-plugin-for-aws compatibility matrix pairs it with the ${VELERO_AWS_PLUGIN.compatibleLine}.x line. Fix: \`${setCmd("awsPluginVersion", VELERO_AWS_PLUGIN.tag)}\`.`);
    }
    const excludedNamespaces = list("excludedNamespaces");
    for (const ns of excludedNamespaces) {
        if (!DNS_LABEL.test(ns) || ns.length > 63) {
            problem("excludedNamespaces", `${q(ns)} is not a valid namespace name (RFC 1123 label). Fix: correct or remove it from the list in Pulumi.${stack}.yaml.`);
        }
    }

    // --- Schedules ---
    const tiers: BackupTier[] = [];
    const tierKeys = [
        { key: "daily", cron: "backupSchedule", ttl: "backupTtl", exampleTtl: "720h", enabled: true },
        { key: "weekly", cron: "weeklyBackupSchedule", ttl: "weeklyBackupTtl", exampleTtl: "2160h", enabled: isSet("weeklyBackupTtl") },
        { key: "monthly", cron: "monthlyBackupSchedule", ttl: "monthlyBackupTtl", exampleTtl: "8760h", enabled: isSet("monthlyBackupTtl") },
    ] as const;
    if (mode === "drill") {
        // A drill must never write into the vault: no schedule at all, so there is nothing to misconfigure.
        for (const t of tierKeys) {
            forbidInMode(t.cron, mode, "a drill is read-only towards the backups and takes none");
            forbidInMode(t.ttl, mode, "a drill is read-only towards the backups and takes none");
        }
    } else {
        for (const t of tierKeys) {
            if (!t.enabled) {
                if (isSet(t.cron)) {
                    problem(t.cron, `${q(raw[t.cron].value)} is set but ${fq(t.ttl)} is not, so the ${t.key} tier is off. Fix: \`${setCmd(t.ttl, t.exampleTtl)}\` or \`pulumi config rm ${fq(t.cron)}\`.`);
                }
                continue;
            }
            const cron = str(t.cron) ?? DERIVED_DEFAULTS[t.cron];
            const cronIssue = cronProblem(cron);
            if (cronIssue !== undefined) {
                problem(t.cron, `${q(cron)} ${cronIssue}. Fix: \`${setCmd(t.cron, `'${DERIVED_DEFAULTS[t.cron]}'`)}\`.`);
            }
            const ttl = t.ttl === "backupTtl" ? (str(t.ttl) ?? DERIVED_DEFAULTS.backupTtl) : (str(t.ttl) ?? "");
            const hours = parseDurationHours(ttl);
            if (hours === 0) {
                problem(t.ttl, `${q(ttl)} would keep no backup at all. Fix: \`${setCmd(t.ttl, t.exampleTtl)}\`.`);
            } else if (hours === undefined) {
                problem(t.ttl, `${q(ttl)} is not a Go duration Velero accepts (hours, minutes, seconds; no days). Fix: \`${setCmd(t.ttl, t.exampleTtl)}\`.`);
            } else if (lockDays !== undefined && hours > lockDays * 24) {
                problem(t.ttl, `${q(ttl)} (${+(hours / 24).toFixed(2)} days) outlives the Object Lock retention of ${lockDays} days: the backup's last days would be unlocked and deletable. Fix: \`${setCmd(t.ttl, `${lockDays * 24}h`)}\` or raise lockDays to at least ${Math.ceil(hours / 24)}.`);
            }
            if (cronIssue === undefined && hours !== undefined && hours > 0) {
                tiers.push({ key: t.key, cron, ttl, ttlHours: hours });
            }
        }
    }

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }

    // Every `undefined` below was reported above, so these assertions only narrow types.
    return deepFreeze<StackConfig>({
        project: PROJECT,
        stack,
        mode,
        clusterName: clusterName!,
        kubeContext,
        prefix,
        vault: {
            create,
            bucketName,
            region,
            kmsKeyArn,
            lockMode,
            lockDays: lockDays!,
            noncurrentVersionExpirationDays: noncurrentVersionExpirationDays!,
            abortIncompleteMultipartUploadDays: abortIncompleteMultipartUploadDays!,
            transitions,
            replica,
        },
        source,
        credentials: credentials!,
        velero: {
            namespace,
            releaseName,
            volumeDataMode,
            awsPluginVersion,
            tiers,
            excludedNamespaces,
            repoPassword: repoPassword!,
        },
        monitoring: { prometheusOperator: bool("prometheusOperator", false) },
    });
}

/** Parses `storageTransitions` entries, reporting format, class, order and AWS minimum-day problems. */
function parseTransitions(entries: readonly string[], report: (message: string) => void, fix: string): StorageTransition[] {
    const result: StorageTransition[] = [];
    for (const entry of entries) {
        const m = /^([A-Z_]+):(\d+)$/.exec(entry);
        if (m === null) {
            report(`${JSON.stringify(entry)} is not "STORAGE_CLASS:days". Fix: \`${fix}\`.`);
            continue;
        }
        const [storageClass, days] = [m[1], Number(m[2])];
        const spec = TRANSITION_CLASSES.find((c) => c.storageClass === storageClass);
        if (spec === undefined) {
            const why = REJECTED_CLASSES[storageClass] ?? "it is not an S3 storage class";
            report(`${JSON.stringify(entry)}: ${storageClass} is not allowed: ${why}. Use ${TRANSITION_CLASSES.map((c) => c.storageClass).join(", ")}.`);
            continue;
        }
        if (days < spec.minDays) {
            report(`${JSON.stringify(entry)}: S3 moves objects to ${storageClass} no sooner than ${spec.minDays} days after creation. Fix: use "${storageClass}:${spec.minDays}" or later.`);
            continue;
        }
        const previous = result[result.length - 1];
        if (previous !== undefined) {
            const order = (c: string) => TRANSITION_CLASSES.findIndex((t) => t.storageClass === c);
            if (order(storageClass) <= order(previous.storageClass)) {
                report(`${JSON.stringify(entry)} comes after "${previous.storageClass}:${previous.days}", but S3 only moves objects down the order ${TRANSITION_CLASSES.map((c) => c.storageClass).join(" -> ")}. Fix: list the classes in that order.`);
                continue;
            }
            const gap = previous.storageClass === "STANDARD_IA" ? MIN_DAYS_IN_STANDARD_IA : 1;
            if (days < previous.days + gap) {
                report(`${JSON.stringify(entry)} is too soon after "${previous.storageClass}:${previous.days}": objects must stay at least ${gap} day${gap === 1 ? "" : "s"} in ${previous.storageClass} first. Fix: use "${storageClass}:${previous.days + gap}" or later.`);
                continue;
            }
        }
        result.push({ storageClass: spec.storageClass, days });
    }
    return result;
}

/** Reads the `gitops-dr:` configuration of the running stack. The only caller of the Pulumi config API. */
export function readRawConfig(): RawConfig {
    // pulumi.Config offers no "is this key secret?" query; the runtime's own check is what Config.getSecret's
    // warning path uses. It reads the secret key list the CLI passes to the program.
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

/** Reads and validates the running stack's configuration. */
export function loadConfig(): StackConfig {
    return parseConfig(readRawConfig(), pulumi.getStack());
}
