/** Parsing of the vault keys: where the bucket is, its lock, lifecycle and replica. */
import { ConfigReader, q, rmCmd, setCmd, setListCmd } from "./reader";
import { LOCK_MODES, Mode, StorageTransition, TransitionStorageClass, VaultSettings } from "./types";
import { IAM_PRINCIPAL_ARN, KMS_KEY_ARN, arnRegion, isValidBucketName, regionProblem } from "./values";

/**
 * The storage classes a current backup object may move to, in the order S3's lifecycle "waterfall" allows, with
 * the fewest days after creation S3 accepts for each (AWS: "Transitioning objects using Amazon S3 Lifecycle").
 * GLACIER and DEEP_ARCHIVE are not here on purpose: Velero and kopia read objects directly, and an archived
 * object must be restored by hand before it can be read, so a recovery would stall. ONEZONE_IA keeps a single
 * copy in one zone, which weakens the backup.
 */
export const TRANSITION_CLASSES: readonly {
    readonly storageClass: TransitionStorageClass;
    readonly minDays: number;
}[] = [
    { storageClass: "STANDARD_IA", minDays: 30 },
    { storageClass: "INTELLIGENT_TIERING", minDays: 0 },
    { storageClass: "GLACIER_IR", minDays: 0 },
];

/** The most days a transition may wait, as for `noncurrentVersionExpirationDays`; a typo like 1e23 never reaches AWS. */
export const MAX_TRANSITION_DAYS = 36500;

/** Days an object must stay in STANDARD_IA before a later transition (AWS lifecycle constraints). */
export const MIN_DAYS_IN_STANDARD_IA = 30;

/** The longest default retention accepted at all (S3 itself allows 36500 days). */
export const MAX_LOCK_DAYS = 3650;
/** COMPLIANCE retention above this needs `complianceLockDaysAcknowledged`: no one can shorten it, ever. */
export const COMPLIANCE_ACK_ABOVE_DAYS = 366;

const REJECTED_CLASSES: Readonly<Record<string, string>> = {
    GLACIER: "archived objects cannot be read by Velero or kopia until restored by hand, which stalls a recovery",
    DEEP_ARCHIVE: "archived objects cannot be read by Velero or kopia until restored by hand, which stalls a recovery",
    ONEZONE_IA: "it keeps the data in a single Availability Zone, which weakens the backup",
    STANDARD: "objects start in STANDARD; list only the classes they move to",
};

/** What the source stack's outputs give a recover or drill stack (any of them may be missing). */
export interface SourceOutputs {
    readonly bucketName?: string;
    readonly region?: string;
    readonly kmsKeyArn?: string;
    readonly prefix?: string;
    readonly clusterName?: string;
    readonly dailyScheduleName?: string;
    readonly credentialsScheduleName?: string;
    /** The vault's off-site replica, when the source stack created one. */
    readonly replicaBucketName?: string;
    readonly replicaRegion?: string;
    readonly replicaKmsKeyArn?: string;
}

/** Where a value came from, for messages: the key, or the source stack's output. */
function origin(r: ConfigReader, key: "region" | "bucketName" | "kmsKeyArn", sourceStack: string | undefined): string {
    return r.isSet(key) || sourceStack === undefined
        ? q(r.explicit(key) ?? "")
        : `the source stack ${sourceStack}'s output ${key}`;
}

/** Parses the vault keys; `source` are the source stack's outputs in recover and drill. */
export function parseVault(
    r: ConfigReader,
    mode: Mode,
    allowUnlistedRegion: boolean,
    sourceStack: string | undefined,
    source: SourceOutputs,
): VaultSettings {
    const fromSource = mode !== "protect" && sourceStack !== undefined;
    const pick = (key: "region" | "bucketName" | "kmsKeyArn") =>
        r.str(key) ?? (mode === "protect" ? undefined : source[key]);

    const region = pick("region");
    // The region once it is known to be one; a typo must not also be blamed on kmsKeyArn.
    let validRegion: string | undefined;
    if (region !== undefined) {
        const issue = regionProblem(region, allowUnlistedRegion);
        if (issue !== undefined) {
            r.problem(
                "region",
                `${origin(r, "region", sourceStack)} ${issue} Fix: \`${setCmd("region", "eu-west-1")}\`.`,
            );
        } else {
            validRegion = region;
        }
    } else {
        r.problem(
            "region",
            `is required${mode === "protect" ? "" : fromSource ? ` (the source stack ${sourceStack} has no region output)` : " (or set sourceStack)"}. Fix: \`${setCmd("region", "eu-west-1")}\`.`,
        );
    }

    const bucketName = pick("bucketName");
    if (bucketName !== undefined && !isValidBucketName(bucketName)) {
        r.problem(
            "bucketName",
            `${origin(r, "bucketName", sourceStack)} is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit). Fix: \`${setCmd("bucketName", "acme-velero-vault")}\`.`,
        );
    } else if (bucketName === undefined) {
        r.problem(
            "bucketName",
            mode === "protect"
                ? `is required: the vault bucket to create or join. Fix: \`${setCmd("bucketName", "acme-velero-vault")}\`.`
                : `is required: a ${mode} stack needs the source bucket. Fix: \`${setCmd("sourceStack", "acme/gitops-dr/prod")}\` or \`${setCmd("bucketName", "acme-velero-vault")}\`.`,
        );
    }

    let create = false;
    if (mode === "protect") {
        create = r.bool("createBucket", true);
    } else {
        r.forbidInMode("createBucket", mode, "it never creates a bucket; it reads the existing vault");
    }

    const kmsKeyArn = pick("kmsKeyArn");
    if (kmsKeyArn !== undefined) {
        const m = KMS_KEY_ARN.exec(kmsKeyArn);
        const alias = /^(arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:)?(alias\/[A-Za-z0-9:/_-]+)$/.exec(kmsKeyArn);
        if (alias !== null) {
            // The alias gitops-dr gives its keys (vaultKeyAlias) is for people; IAM and bucket policies match the
            // key's ARN only (KMS "Using aliases in IAM policies": an alias is not a key resource).
            const aliasRegion = alias[2] ?? validRegion ?? "<vault region>";
            r.problem(
                "kmsKeyArn",
                `${origin(r, "kmsKeyArn", sourceStack)} is a key alias; IAM and the bucket policy grant on the key's ARN, never an alias. Fix: read the ARN with \`aws kms describe-key --key-id ${kmsKeyArn} --region ${aliasRegion} --query KeyMetadata.Arn --output text\` and \`${setCmd("kmsKeyArn", "<that ARN>")}\`.`,
            );
        } else if (m === null) {
            r.problem(
                "kmsKeyArn",
                `${origin(r, "kmsKeyArn", sourceStack)} is not a KMS key ARN (an alias cannot be granted in IAM or matched by the bucket policy). Fix: \`${setCmd("kmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:key/<key-id>")}\`.`,
            );
        } else if (validRegion !== undefined && m[1] !== validRegion) {
            // SSE-KMS only takes a key in the bucket's own region (S3 "Specifying server-side encryption with AWS KMS").
            r.problem(
                "kmsKeyArn",
                `${origin(r, "kmsKeyArn", sourceStack)} is a key in ${m[1]}, but the vault is in ${validRegion}; S3 encrypts only with a KMS key in the bucket's region. Fix: \`${setCmd("kmsKeyArn", `arn:aws:kms:${validRegion}:${m[2]}:key/<key-id>`)}\`.`,
            );
        }
    } else if (!create) {
        r.problem(
            "kmsKeyArn",
            `is required when the stack uses an existing vault: Velero encrypts with the vault's key. Fix: \`${setCmd("kmsKeyArn", `arn:aws:kms:${validRegion ?? "eu-west-1"}:111122223333:key/<key-id>`)}\`${mode === "protect" ? "" : " or set sourceStack"}.`,
        );
    }

    const breakGlassPrincipalArns = parseBreakGlass(r, mode, create && kmsKeyArn === undefined);

    const lockMode = r.oneOf("lockMode", LOCK_MODES) ?? "COMPLIANCE";
    if (lockMode === "GOVERNANCE" && create) {
        // Possible on purpose (a first weeks' trial that may need to delete), but never silent.
        r.warn(
            "lockMode",
            `GOVERNANCE: any principal with s3:BypassGovernanceRetention can delete a locked backup, so the vault does not protect backups from a stolen administrator credential; the policy pack refuses it unless its vault-bucket-object-lock policy sets requireCompliance false. Fix: \`${setCmd("lockMode", "COMPLIANCE")}\` once lockDays is right.`,
        );
    }
    const lockDays = r.int("lockDays", 1, MAX_LOCK_DAYS);
    if (lockDays !== undefined && lockMode === "COMPLIANCE" && lockDays > COMPLIANCE_ACK_ABOVE_DAYS) {
        const ack = r.int("complianceLockDaysAcknowledged", 1, MAX_LOCK_DAYS);
        if (ack !== lockDays) {
            r.problem(
                "lockDays",
                `${lockDays} days in COMPLIANCE mode: every object written is then undeletable, and billed, for ${+(lockDays / 365).toFixed(1)} years, by anyone including the account root, and nothing can shorten it. Fix: \`${setCmd("lockDays", "31")}\`, or confirm with \`${setCmd("complianceLockDaysAcknowledged", String(lockDays))}\`.`,
            );
        }
    } else {
        r.unused(
            "complianceLockDaysAcknowledged",
            `it only confirms COMPLIANCE retention above ${COMPLIANCE_ACK_ABOVE_DAYS} days`,
        );
    }
    const noncurrentVersionExpirationDays = r.int("noncurrentVersionExpirationDays", 1, 36500, lockDays);
    if (
        lockDays !== undefined &&
        noncurrentVersionExpirationDays !== undefined &&
        noncurrentVersionExpirationDays < lockDays
    ) {
        r.problem(
            "noncurrentVersionExpirationDays",
            `${noncurrentVersionExpirationDays} is shorter than lockDays (${lockDays}): S3 would try to expire versions that are still locked, and storage would be billed as if they were gone. Fix: \`${setCmd("noncurrentVersionExpirationDays", String(lockDays))}\` or leave it unset to follow lockDays.`,
        );
    }
    const abortIncompleteMultipartUploadDays = r.int("abortIncompleteMultipartUploadDays", 1, 365);
    const transitions = parseTransitions(
        r.list("storageTransitions", ["STANDARD_IA:30"]),
        (m) => r.problem("storageTransitions", m),
        setListCmd("storageTransitions", ["STANDARD_IA:30"]),
    );

    let replica: VaultSettings["replica"];
    const replicaRegion = r.str("replicaRegion");
    if (mode !== "protect") {
        r.forbidInMode("replicaRegion", mode, "only the stack that creates the vault configures its replica");
        r.forbidInMode("replicaBucketName", mode, "only the stack that creates the vault configures its replica");
    } else if (replicaRegion !== undefined) {
        const issue = regionProblem(replicaRegion, allowUnlistedRegion);
        if (!create) {
            r.problem(
                "replicaRegion",
                `${q(replicaRegion)}: only the stack that creates the vault configures its replica. Fix: \`${rmCmd("replicaRegion")}\`.`,
            );
        } else if (issue !== undefined) {
            r.problem(
                "replicaRegion",
                `${q(replicaRegion)} ${issue} Fix: \`${setCmd("replicaRegion", "eu-central-1")}\`.`,
            );
        } else if (replicaRegion === region) {
            r.problem(
                "replicaRegion",
                `${q(replicaRegion)} is the vault's own region; an off-site replica must survive the loss of that region. Fix: \`${setCmd("replicaRegion", region === "eu-central-1" ? "eu-west-1" : "eu-central-1")}\` (another region).`,
            );
        } else {
            const explicitReplica = r.str("replicaBucketName");
            const replicaBucketName = explicitReplica ?? `${bucketName ?? ""}-replica`;
            // A default derived from a missing or bad bucketName is not checked: that is bucketName's problem,
            // already reported once (one typo, one problem).
            const derivedFromBad =
                explicitReplica === undefined && (bucketName === undefined || !isValidBucketName(bucketName));
            if (derivedFromBad) {
                // nothing more to say
            } else if (!isValidBucketName(replicaBucketName)) {
                r.problem(
                    "replicaBucketName",
                    `${q(replicaBucketName)} is not a valid S3 bucket name (at most 63 characters; the default is <bucketName>-replica). Fix: \`${setCmd("replicaBucketName", "acme-velero-vault-replica")}\`.`,
                );
            } else if (replicaBucketName === bucketName) {
                r.problem(
                    "replicaBucketName",
                    `${q(replicaBucketName)} is the vault bucket itself. Fix: \`${setCmd("replicaBucketName", `${bucketName}-replica`)}\`.`,
                );
            }
            replica = { region: replicaRegion, bucketName: replicaBucketName };
        }
    } else if (r.isSet("replicaBucketName")) {
        r.problem(
            "replicaBucketName",
            `${q(r.explicit("replicaBucketName")!)} is set but replicaRegion is not, so no replica is made. Fix: \`${setCmd("replicaRegion", "eu-central-1")}\` or \`${rmCmd("replicaBucketName")}\`.`,
        );
    }

    return {
        create,
        bucketName: bucketName ?? "",
        region: region ?? "",
        kmsKeyArn,
        lockMode,
        lockDays: lockDays ?? 0,
        noncurrentVersionExpirationDays: noncurrentVersionExpirationDays ?? 0,
        abortIncompleteMultipartUploadDays: abortIncompleteMultipartUploadDays ?? 0,
        transitions,
        replica,
        breakGlassPrincipalArns,
    };
}

const BREAK_GLASS_EXAMPLE = ["arn:aws:iam::111122223333:role/vault-break-glass"];

/**
 * `breakGlassPrincipalArns`: required exactly when the stack creates the vault's keys, since their key policy
 * refuses DisableKey, ScheduleKeyDeletion and PutKeyPolicy to everyone else (components/iam.ts `vaultKeyPolicy`).
 */
function parseBreakGlass(r: ConfigReader, mode: Mode, createsKey: boolean): string[] {
    if (mode !== "protect") {
        r.forbidInMode(
            "breakGlassPrincipalArns",
            mode,
            "only the stack that creates the vault's keys writes their policy",
        );
        return [];
    }
    if (!createsKey) {
        r.unused("breakGlassPrincipalArns", "the stack creates no KMS key (createBucket false or kmsKeyArn set)");
        return [];
    }
    const arns = r.list("breakGlassPrincipalArns", BREAK_GLASS_EXAMPLE);
    const fix = `\`${setListCmd("breakGlassPrincipalArns", BREAK_GLASS_EXAMPLE)}\``;
    if (arns.length === 0 && !r.isSet("breakGlassPrincipalArns")) {
        r.problem(
            "breakGlassPrincipalArns",
            `is required when the stack creates the vault's KMS key: its key policy lets only these principals disable the key, schedule its deletion or change the policy, and AWS refuses a key policy that locks out the principal running \`pulumi up\`. Fix: ${fix} (include the role that deploys this stack).`,
        );
        return [];
    }
    if (arns.length === 0) {
        r.problem(
            "breakGlassPrincipalArns",
            `is empty: nobody could then disable or delete the vault's key, nor change its policy, and AWS refuses such a key policy. Fix: ${fix}.`,
        );
    }
    const seen = new Set<string>();
    for (const arn of arns) {
        if (/[*?]/.test(arn)) {
            r.problem(
                "breakGlassPrincipalArns",
                `${q(arn)} contains a wildcard: it would name every principal it matches, and a key policy's Principal takes none. Fix: list each role or user ARN, e.g. ${fix}.`,
            );
        } else if (/^arn:aws[-a-z]*:iam::\d{12}:root$/.test(arn)) {
            r.problem(
                "breakGlassPrincipalArns",
                `${q(arn)} is the account: in a key policy's Principal it means every IAM principal of the account that its IAM policies allow, which is what the key policy exists to refuse. Fix: name a dedicated role, e.g. ${fix}.`,
            );
        } else if (/^arn:aws[-a-z]*:sts::/.test(arn)) {
            r.problem(
                "breakGlassPrincipalArns",
                `${q(arn)} is a role session, which ends; AWS compares aws:PrincipalArn, the session's role ARN. Fix: name the role (arn:aws:iam::<account>:role/<name>), e.g. ${fix}.`,
            );
        } else if (!IAM_PRINCIPAL_ARN.test(arn)) {
            r.problem("breakGlassPrincipalArns", `${q(arn)} is not an IAM role or user ARN. Fix: ${fix}.`);
        } else if (seen.has(arn)) {
            r.problem("breakGlassPrincipalArns", `${q(arn)} is listed twice. Fix: list each principal once.`);
        }
        seen.add(arn);
    }
    if (arns.length > 0 && arns.every((arn) => IDENTITY_CENTER_ROLE.test(arn))) {
        // IAM Identity Center deletes a permission set's role when its last assignment in the account goes, and a
        // new assignment creates a role with another unique suffix, so another ARN (IAM Identity Center user guide,
        // "Referencing permission sets in resource policies, Amazon EKS Cluster config maps, and AWS KMS key
        // policies"): the key policy would then name no one who may manage the key.
        r.warn(
            "breakGlassPrincipalArns",
            `every entry is an IAM Identity Center role (role/aws-reserved/sso.amazonaws.com/...): Identity Center deletes such a role when its permission set's last assignment in the account is removed and creates it again with another suffix, so another ARN, and then nobody could disable, delete or re-policy the vault's key. Fix: add a role of your own that Identity Center does not manage, e.g. \`${setListCmd("breakGlassPrincipalArns", [...arns, BREAK_GLASS_EXAMPLE[0]])}\`.`,
        );
    }
    return arns;
}

/** A role IAM Identity Center creates for a permission set (`AWSReservedSSO_<set>_<suffix>`). */
const IDENTITY_CENTER_ROLE = /^arn:aws[-a-z]*:iam::\d{12}:role\/aws-reserved\/sso\.amazonaws\.com\//;

/** The region of a KMS key ARN, for callers that compare regions. */
export const kmsKeyRegion = arnRegion;

/** Parses `storageTransitions` entries, reporting format, class, order and AWS minimum-day problems. */
export function parseTransitions(
    entries: readonly string[],
    report: (message: string) => void,
    fix: string,
): StorageTransition[] {
    const result: StorageTransition[] = [];
    for (const entry of entries) {
        const m = /^([A-Z_]+):(\d+)$/.exec(entry);
        if (m === null) {
            report(`${JSON.stringify(entry)} is not "STORAGE_CLASS:days". Fix: \`${fix}\`.`);
            continue;
        }
        const [storageClass, days] = [m[1], Number(m[2])];
        if (!Number.isSafeInteger(days) || days > MAX_TRANSITION_DAYS) {
            report(
                `${JSON.stringify(entry)}: ${m[2]} days is more than ${MAX_TRANSITION_DAYS} (100 years), which S3 does not take. Fix: \`${fix}\`.`,
            );
            continue;
        }
        const spec = TRANSITION_CLASSES.find((c) => c.storageClass === storageClass);
        if (spec === undefined) {
            const why = REJECTED_CLASSES[storageClass] ?? "it is not an S3 storage class";
            report(
                `${JSON.stringify(entry)}: ${storageClass} is not allowed: ${why}. Use ${TRANSITION_CLASSES.map((c) => c.storageClass).join(", ")}.`,
            );
            continue;
        }
        if (days < spec.minDays) {
            report(
                `${JSON.stringify(entry)}: S3 moves objects to ${storageClass} no sooner than ${spec.minDays} days after creation. Fix: use "${storageClass}:${spec.minDays}" or later.`,
            );
            continue;
        }
        const previous = result[result.length - 1];
        if (previous !== undefined) {
            const order = (c: string) => TRANSITION_CLASSES.findIndex((t) => t.storageClass === c);
            if (order(storageClass) <= order(previous.storageClass)) {
                report(
                    `${JSON.stringify(entry)} comes after "${previous.storageClass}:${previous.days}", but S3 only moves objects down the order ${TRANSITION_CLASSES.map((c) => c.storageClass).join(" -> ")}. Fix: list the classes in that order.`,
                );
                continue;
            }
            const gap = previous.storageClass === "STANDARD_IA" ? MIN_DAYS_IN_STANDARD_IA : 1;
            if (days < previous.days + gap) {
                report(
                    `${JSON.stringify(entry)} is too soon after "${previous.storageClass}:${previous.days}": objects must stay at least ${gap} day${gap === 1 ? "" : "s"} in ${previous.storageClass} first. Fix: use "${storageClass}:${previous.days + gap}" or later.`,
                );
                continue;
            }
        }
        result.push({ storageClass: spec.storageClass, days });
    }
    return result;
}
