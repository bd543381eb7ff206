/**
 * Deliberately broken variants of the shipped stacks, for the tests that run the whole pack over the real
 * program's recording. Each breaks one thing, the way a code change or a config value would, and names the
 * one violation it must add. `code` faults change what the program registers (a component built
 * differently), which config validation cannot see; `config` faults set values config validation accepts
 * but the organisation's thresholds do not.
 */
import type { RecordedResource, RecordedRun } from "../gate/recording";

/** A recorded registration that a fault may change. */
export interface MutableResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    inputs: Record<string, unknown>;
    secretPaths: string[];
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    provider?: string;
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    customTimeouts?: { create?: string; update?: string; delete?: string };
    outputs?: Record<string, unknown>;
    outputSecretPaths?: string[];
}

export interface MutableRun {
    resources: MutableResource[];
    outputs: Record<string, unknown>;
}

/** A deep, mutable copy of a recorded run. */
export function cloneRun(run: RecordedRun): MutableRun {
    return structuredClone({ resources: run.resources as RecordedResource[], outputs: run.outputs }) as MutableRun;
}

/** The one resource of a type whose name ends with `suffix`. */
export function one(run: MutableRun, type: string, suffix = ""): MutableResource {
    const found = run.resources.filter((r) => r.type === type && r.name.endsWith(suffix));
    if (found.length !== 1) {
        throw new Error(`expected one ${type} named *${suffix}, found ${found.length}`);
    }
    return found[0];
}

const RESTORE = "kubernetes:velero.io/v1:Restore";
const JOB = "kubernetes:batch/v1:Job";
const APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application";
const SCHEDULE = "kubernetes:velero.io/v1:Schedule";

/** The data Restore of a recover or drill run (its credentials Restore is named `*-credentials-restore`). */
function dataRestore(run: MutableRun): MutableResource {
    const found = run.resources.filter((r) => r.type === RESTORE && !r.name.includes("-credentials-"));
    if (found.length !== 1) {
        throw new Error(`expected one data Restore, found ${found.length}`);
    }
    return found[0];
}

/** A JSON policy input, parsed, changed and written back. */
function editPolicy(r: MutableResource, change: (document: { Statement: Record<string, unknown>[] }) => void): void {
    const document = JSON.parse(r.inputs.policy as string) as { Statement: Record<string, unknown>[] };
    change(document);
    r.inputs.policy = JSON.stringify(document);
}

/** The Velero release's values. */
function values(run: MutableRun): Record<string, Record<string, unknown>> {
    return one(run, "kubernetes:helm.sh/v3:Release", "velero-release").inputs.values as Record<
        string,
        Record<string, unknown>
    >;
}

/** The daily schedule, a Schedule object (`<clusterName>-daily`) or the chart's `schedules.daily`, and how messages name it. */
function daily(run: MutableRun): { template: Record<string, unknown>; where: string } {
    const scheduleName = (r: MutableResource) => (r.inputs.metadata as { name?: string } | undefined)?.name ?? "";
    const objects = run.resources.filter((r) => r.type === SCHEDULE && scheduleName(r).endsWith("-daily"));
    if (objects.length === 1) {
        const spec = objects[0].inputs.spec as Record<string, unknown>;
        return {
            template: spec.template as Record<string, unknown>,
            where: `schedule ${scheduleName(objects[0])} (Schedule ${objects[0].name})`,
        };
    }
    const release = one(run, "kubernetes:helm.sh/v3:Release", "velero-release");
    const name = String(release.inputs.name);
    const fullname = name.includes("velero") ? name : `${name}-velero`;
    return {
        template: (values(run).schedules.daily as Record<string, unknown>).template as Record<string, unknown>,
        where: `schedule ${fullname}-daily (${release.name} values schedules.daily)`,
    };
}

/** The read-only location (chart values or a BackupStorageLocation object), how messages name it, and a way to make it writable. */
function readOnlyLocation(run: MutableRun): { where: string; name: string; makeWritable: () => void } {
    const release = one(run, "kubernetes:helm.sh/v3:Release", "velero-release");
    const fromValues = (values(run).configuration.backupStorageLocation as Record<string, unknown>[]).findIndex(
        (l) => l.accessMode === "ReadOnly",
    );
    if (fromValues >= 0) {
        const location = (values(run).configuration.backupStorageLocation as Record<string, unknown>[])[fromValues];
        return {
            where: `${release.name} values configuration.backupStorageLocation[${fromValues}]`,
            name: String(location.name),
            makeWritable: () => (location.accessMode = "ReadWrite"),
        };
    }
    const object = run.resources.find(
        (r) =>
            r.type === "kubernetes:velero.io/v1:BackupStorageLocation" &&
            (r.inputs.spec as Record<string, unknown> | undefined)?.accessMode === "ReadOnly",
    );
    if (object === undefined) {
        throw new Error("no read-only location");
    }
    return {
        where: `BackupStorageLocation ${object.name}`,
        name: String((object.inputs.metadata as Record<string, unknown>).name),
        makeWritable: () => ((object.inputs.spec as Record<string, unknown>).accessMode = "ReadWrite"),
    };
}

/** A config override as the engine takes it. */
export type ConfigOverrides = Readonly<Record<string, string | number | boolean | readonly string[] | null>>;

export interface Expectation {
    readonly policyName: string;
    readonly enforcementLevel: "mandatory" | "advisory";
    readonly message: string;
}

export interface Variant {
    /** What is broken. */
    readonly name: string;
    readonly stack: "prod" | "drill" | "recover";
    readonly kind: "code" | "config";
    readonly config?: ConfigOverrides;
    readonly fault?: (run: MutableRun) => void;
    /**
     * Type tokens the fault needs in the recording. A variant of the restore order waits (pending) until the
     * program registers those resources.
     */
    readonly needs?: readonly string[];
    /** The violations the variant adds to the stack's own; a function of the unbroken run when they name its resources. */
    readonly expect: readonly Expectation[] | ((run: MutableRun) => readonly Expectation[]);
}

/** The resources that are `target` or wait for it, by URN (the run's dependency graph, followed backwards). */
function dependentsOf(run: MutableRun, target: MutableResource): Set<string> {
    const result = new Set([target.urn]);
    let grew = true;
    while (grew) {
        grew = false;
        for (const r of run.resources) {
            const deps = [...r.dependencies, ...Object.values(r.propertyDependencies).flat()];
            if (!result.has(r.urn) && deps.some((d) => result.has(d))) {
                result.add(r.urn);
                grew = true;
            }
        }
    }
    return result;
}

/** Removes every edge from `r` to `target` or to anything that waits for it. */
function cutFrom(run: MutableRun, r: MutableResource, target: MutableResource): void {
    const cut = dependentsOf(run, target);
    r.dependencies = r.dependencies.filter((d) => !cut.has(d));
    for (const key of Object.keys(r.propertyDependencies)) {
        r.propertyDependencies[key] = r.propertyDependencies[key].filter((d) => !cut.has(d));
    }
}

/** `Kind name` as the pack's messages name a resource. */
function label(r: MutableResource): string {
    return `${r.type.substring(r.type.lastIndexOf(":") + 1)} ${r.name}`;
}

function annotations(r: MutableResource): Record<string, string> {
    const metadata = (r.inputs.metadata ??= {}) as { annotations?: Record<string, string> };
    return (metadata.annotations ??= {});
}

const BUCKET = "arn:aws:s3:::acme-gitops-dr-vault";
/** iam-restore-role-read-only's fix. */
const RESTORE_FIX =
    "Grant it only s3:GetObject under the source prefix, s3:PutObject and s3:DeleteObject under <prefix>/restores/ and s3:PutObject on kopia's session blobs <prefix>/kopia/*/q*, xn*, s* with kopia's fixed names denied (components/iam.ts restorerPolicy); its own writes belong under its own prefix (gitops-dr:prefix).";

const mandatory = (policyName: string, message: string) => ({
    policyName,
    enforcementLevel: "mandatory" as const,
    message,
});

export const VARIANTS: readonly Variant[] = [
    // The restore order, judged on the program's own graph once it registers it (the restore-order contract).
    {
        name: "the drill's Restore no longer waits for the sync barrier",
        stack: "drill",
        kind: "code",
        needs: [RESTORE],
        fault: (run) => {
            const restore = dataRestore(run);
            const release = one(run, "kubernetes:helm.sh/v3:Release", "velero-release");
            for (const barrier of run.resources.filter(
                (r) => r.type === JOB || r.type === "kubernetes:velero.io/v1:BackupStorageLocation",
            )) {
                cutFrom(run, restore, barrier);
            }
            restore.dependencies.push(release.urn);
        },
        expect: (run) => [
            mandatory(
                "velero-restore-after-sync-barrier",
                `A Restore must wait for the sync barrier: a backup-check Job, or the source BackupStorageLocation awaited until it is Available and synced. A Restore created before its backup is synced fails validation and is never retried. Found: ${label(dataRestore(run))} depends on neither. Fix: Make the Restore depend on the backup-check Job or on the awaited source BackupStorageLocation (dependsOn).`,
            ),
        ],
    },
    {
        name: "the drill's Restore is not awaited until it has ended",
        stack: "drill",
        kind: "code",
        needs: [RESTORE],
        fault: (run) => delete annotations(dataRestore(run))["pulumi.com/waitFor"],
        expect: (run) => [
            mandatory(
                "velero-restore-after-sync-barrier",
                `A Restore must be awaited until it has ended, so that what follows starts after the restore: pulumi.com/waitFor on Completed, or on the terminal phases with the phase checked before anything depends on the restore. Found: ${label(dataRestore(run))} has pulumi.com/waitFor unset. Fix: Annotate it pulumi.com/waitFor: "jsonpath={.status.phase}=Completed", or wait for every terminal phase (Completed, PartiallyFailed, Failed, FailedValidation) and check the phase; and no pulumi.com/skipAwait.`,
            ),
        ],
    },
    {
        name: "the drill's root Application no longer waits for the Restore",
        stack: "drill",
        kind: "code",
        needs: [RESTORE, APPLICATION],
        fault: (run) => cutFrom(run, one(run, APPLICATION), dataRestore(run)),
        expect: (run) => [
            mandatory(
                "argocd-root-app-after-restore",
                `In a recovery or drill, Argo CD must not sync before the restore has ended: every Application must wait for the Restore. Found: ${label(one(run, APPLICATION))} does not depend on ${label(dataRestore(run))}. Fix: Make the Application depend on the Restore (an input taken from it, or dependsOn).`,
            ),
        ],
    },
    {
        name: "the recovered cluster's daily Schedule no longer waits for the Restore",
        stack: "recover",
        kind: "code",
        needs: [RESTORE, SCHEDULE],
        fault: (run) => cutFrom(run, one(run, SCHEDULE, "-daily"), dataRestore(run)),
        expect: (run) => [
            mandatory(
                "velero-schedules-after-restore",
                `A recovered cluster's backup schedules must not fire before the restore has ended: each Schedule must be created after the Restore. Found: ${label(one(run, SCHEDULE, "-daily"))} does not depend on ${label(dataRestore(run))}. Fix: Make the Schedule depend on the Restore (an input or dependsOn).`,
            ),
        ],
    },
    {
        name: "the recovery's root Application cascade-deletes its workloads",
        stack: "recover",
        kind: "code",
        needs: [APPLICATION],
        fault: (run) =>
            ((one(run, APPLICATION).inputs.metadata as Record<string, unknown>).finalizers = [
                "resources-finalizer.argocd.argoproj.io",
            ]),
        expect: (run) => [
            mandatory(
                "argocd-app-no-cascade-delete",
                `No Application may cascade-delete its workloads when Pulumi replaces or destroys it. Found: ${label(one(run, APPLICATION))} has the finalizer resources-finalizer.argocd.argoproj.io. Fix: Remove it from the finalizers; deleting the Application then leaves its workloads and their volumes in place.`,
            ),
        ],
    },
    {
        name: "the vault bucket is created without Object Lock",
        stack: "prod",
        kind: "code",
        fault: (run) => (one(run, "aws:s3/bucket:Bucket", "-vault-bucket").inputs.objectLockEnabled = false),
        expect: [
            mandatory(
                "vault-bucket-object-lock",
                "A vault bucket must be created with Object Lock enabled. Found: Bucket gitops-dr-prod-vault-bucket has objectLockEnabled false. Fix: Create the bucket with objectLockEnabled: true. S3 only allows it when a bucket is created, so this needs a new bucket.",
            ),
        ],
    },
    {
        name: "the lock retention is below the organisation's 30 days (lockDays 7, TTL 120h: valid config)",
        stack: "prod",
        kind: "config",
        config: { lockDays: 7, backupTtl: "120h" },
        expect: ["gitops-dr-prod-vault-lock", "gitops-dr-prod-vault-replica-lock"].map((lock) =>
            mandatory(
                "vault-bucket-object-lock",
                `The vault's default retention must be at least 30 days. Found: BucketObjectLockConfiguration ${lock} retains versions for 7 days. Fix: Set gitops-dr:lockDays to 30 or more and keep every backup TTL within it, or lower this policy's minLockDays if your organisation allows it.`,
            ),
        ),
    },
    {
        name: "versioning is suspended",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            (one(run, "aws:s3/bucketVersioning:BucketVersioning", "-vault-versioning").inputs.versioningConfiguration =
                { status: "Suspended" }),
        expect: [
            mandatory(
                "vault-bucket-versioning",
                'A vault bucket must have versioning enabled: Object Lock protects versions, and Velero\'s deletes must leave the locked versions in place. Found: BucketVersioning gitops-dr-prod-vault-versioning has status "Suspended". Fix: Set versioningConfiguration.status to "Enabled".',
            ),
        ],
    },
    {
        name: "the vault encrypts with SSE-S3",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            (one(
                run,
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "-vault-encryption",
            ).inputs.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]),
        expect: [
            mandatory(
                "vault-bucket-encryption",
                'A vault bucket must encrypt by default with SSE-KMS under a customer-managed KMS key. Found: BucketServerSideEncryptionConfiguration gitops-dr-prod-vault-encryption uses "AES256". Fix: Set applyServerSideEncryptionByDefault.sseAlgorithm to "aws:kms" with kmsMasterKeyId set to the vault\'s customer-managed key.',
            ),
        ],
    },
    {
        name: "public buckets are not restricted",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            (one(
                run,
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "-vault-public-access",
            ).inputs.restrictPublicBuckets = false),
        expect: [
            mandatory(
                "vault-bucket-public-access",
                "A vault bucket must block all public access. Found: BucketPublicAccessBlock gitops-dr-prod-vault-public-access leaves restrictPublicBuckets unset or false. Fix: Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true in an aws.s3.BucketPublicAccessBlock for the bucket.",
            ),
        ],
    },
    {
        name: "the bucket policy's TLS statement no longer covers the bucket itself",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            editPolicy(one(run, "aws:s3/bucketPolicy:BucketPolicy", "-vault-policy"), (d) => {
                d.Statement.find((s) => s.Sid === "DenyInsecureTransport")!.Resource = `${BUCKET}/*`;
            }),
        expect: [
            mandatory(
                "vault-bucket-tls-only",
                `A vault bucket's policy must deny every request made without TLS. Found: BucketPolicy gitops-dr-prod-vault-policy does not deny s3:ListBucket on ${BUCKET} over plain HTTP. Fix: Add a statement denying s3:* on the bucket and its objects to Principal "*" when aws:SecureTransport is "false" (components/iam.ts bucketPolicy does).`,
            ),
        ],
    },
    {
        name: "the lifecycle leaves expired delete markers",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            delete (
                one(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-vault-lifecycle").inputs
                    .rules as Record<string, unknown>[]
            )[0].expiration,
        expect: [
            mandatory(
                "vault-bucket-lifecycle",
                "A vault bucket's lifecycle must remove expired delete markers, which Velero's deletes leave behind. Found: BucketLifecycleConfiguration gitops-dr-prod-vault-lifecycle has no enabled whole-bucket rule with expiration.expiredObjectDeleteMarker true. Fix: Add expiration.expiredObjectDeleteMarker: true to the whole-bucket rule that expires noncurrent versions.",
            ),
        ],
    },
    {
        name: "the lock configuration is not retained on delete",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            (one(
                run,
                "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                "-vault-lock",
            ).retainOnDelete = false),
        expect: [
            mandatory(
                "vault-resources-protected",
                "The vault's buckets, their configurations and KMS keys must be retained on delete, so that even an unprotected destroy leaves them in AWS. Found: BucketObjectLockConfiguration gitops-dr-prod-vault-lock has retainOnDelete false. Fix: Create it with the resource option retainOnDelete: true (gitops-dr's BackupVault does).",
            ),
        ],
    },
    {
        name: "the KMS key is not protected",
        stack: "prod",
        kind: "code",
        fault: (run) => (one(run, "aws:kms/key:Key", "-vault-key").protect = false),
        expect: [
            mandatory(
                "vault-resources-protected",
                "The vault's buckets, their configurations and KMS keys must be protected, so that pulumi destroy refuses to delete them. Found: Key gitops-dr-prod-vault-key has protect false. Fix: Create it with the resource option protect: true (gitops-dr's BackupVault does).",
            ),
        ],
    },
    {
        name: "Velero's image floats on latest",
        stack: "prod",
        kind: "code",
        fault: (run) => (values(run).image.tag = "latest"),
        expect: [
            mandatory(
                "velero-release-versions-pinned",
                'Velero\'s chart, image and plugins must be pinned to exact versions, so that only a reviewed change can change them. Found: Release gitops-dr-prod-velero-release values image.tag is "latest". Fix: Set image.tag to an exact release tag such as "v1.18.1" (components/versions.ts VELERO_IMAGE), or image.digest.',
            ),
        ],
    },
    {
        name: "the repository password Secret is not created",
        stack: "prod",
        kind: "code",
        fault: (run) => (run.resources = run.resources.filter((r) => !r.name.endsWith("-velero-repo-credentials"))),
        expect: [
            mandatory(
                "velero-repository-password",
                "Velero's kopia repository password must be the stack's own, in a velero-repo-credentials Secret that exists before Velero starts; without it Velero creates the Secret with its public default password, which can only be changed before the first backup. Found: no Secret velero-repo-credentials in namespace velero for Release gitops-dr-prod-velero-release. Fix: Set gitops-dr:repoPassword with pulumi config set --secret so the stack creates the Secret, and keep a copy outside the cluster.",
            ),
        ],
    },
    {
        name: "static AWS keys are passed in the chart's values",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            (values(run).credentials = {
                useSecret: true,
                secretContents: {
                    cloud: "[default]\naws_access_key_id=AKIAIOSFODNN7EXAMPLE\naws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                },
            }),
        expect: [
            mandatory(
                "velero-no-plaintext-credentials",
                "AWS keys, the repository password and other credentials (private keys, git tokens) must only appear in Kubernetes Secret data, which Pulumi keeps encrypted; anywhere else they are stored and displayed in plain text. Found: an AWS access key id in Release gitops-dr-prod-velero-release at values.credentials.secretContents.cloud. Fix: Keep it in a Kubernetes Secret's stringData, set from pulumi config set --secret (gitops-dr:awsAccessKeyId, gitops-dr:awsSecretAccessKey, gitops-dr:repoPassword, gitops-dr:gitPassword, gitops-dr:gitSshPrivateKey), and reference the Secret (credentials.existingSecret for the AWS keys).",
            ),
        ],
    },
    {
        name: "the daily backup runs weekly (a valid cron)",
        stack: "prod",
        kind: "config",
        config: { backupSchedule: "0 2 * * 0" },
        expect: (run) => [
            mandatory(
                "velero-schedule-frequency",
                `A protect stack must back up at least every 24h. Found: ${daily(run).where} runs only every 168h (7 days). Fix: Set gitops-dr:backupSchedule to a cron expression that runs at least every 24h, or raise this policy's maxBackupIntervalHours.`,
            ),
        ],
    },
    {
        name: "the schedule stopped covering Secrets",
        stack: "prod",
        kind: "code",
        fault: (run) => (daily(run).template.includedResources = ["persistentvolumes", "persistentvolumeclaims"]),
        expect: (run) => [
            mandatory(
                "velero-schedule-resources",
                `Every backup schedule must back up PersistentVolumes, PersistentVolumeClaims and Secrets, the data Argo CD cannot rebuild. Found: ${daily(run).where} does not include Secrets in includedResources. Fix: List persistentvolumes, persistentvolumeclaims and secrets in the template's includedResources, exclude none of them, and leave includeClusterResources unset or true (gitops-dr's schedules do).`,
            ),
        ],
    },
    {
        name: "the schedule no longer moves snapshot data",
        stack: "prod",
        kind: "code",
        fault: (run) => (daily(run).template.snapshotMoveData = false),
        expect: (run) => [
            mandatory(
                "velero-schedule-volume-data",
                `Every backup schedule must save volume data: CSI snapshots moved into the vault by the data mover, or native snapshots. Found: ${daily(run).where} neither moves snapshot data (snapshotMoveData) nor has a volume snapshot location. Fix: Set gitops-dr:volumeDataMode to dataMover (snapshotMoveData: true), or to nativeSnapshots.`,
            ),
        ],
    },
    {
        name: "the schedule keeps backups longer than the lock",
        stack: "prod",
        kind: "code",
        fault: (run) => (daily(run).template.ttl = "2160h"),
        expect: (run) => [
            mandatory(
                "velero-schedule-ttl-within-lock",
                `A backup must stay locked for as long as Velero keeps it: no schedule's TTL may exceed the vault's default retention. Found: ${daily(run).where} keeps backups 2160h (90 days), the vault locks them 31 days. Fix: Lower the TTL (gitops-dr:backupTtl, gitops-dr:weeklyBackupTtl, gitops-dr:monthlyBackupTtl) to at most 744h, or raise gitops-dr:lockDays.`,
            ),
        ],
    },
    {
        name: "the schedule backs up kube-system",
        stack: "prod",
        kind: "code",
        fault: (run) => (daily(run).template.excludedNamespaces = ["velero", "argocd", "gdr-verify-*"]),
        expect: (run) => [
            mandatory(
                "velero-schedule-excluded-namespaces",
                `Every backup schedule must exclude kube-system: restoring a cluster's own system objects into a new cluster breaks it. Found: ${daily(run).where} does not exclude kube-system. Fix: Add them to the template's excludedNamespaces (gitops-dr always excludes kube-system, kube-public, kube-node-lease, Velero's and Argo CD's namespaces; gitops-dr:excludedNamespaces adds more).`,
            ),
        ],
    },
    {
        name: "the writer role may shorten a lock",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            editPolicy(one(run, "aws:iam/policy:Policy", "-velero-iam-writer"), (d) =>
                d.Statement.push({ Effect: "Allow", Action: "s3:PutObjectRetention", Resource: `${BUCKET}/*` }),
            ),
        expect: [
            mandatory(
                "iam-role-no-lock-bypass",
                `No role or IAM user of the stack may lift Object Lock, delete object versions or change the vault's protection: backups must outlive every credential. Found: Role gitops-dr-prod-velero-iam-role can s3:PutObjectRetention on ${BUCKET}/any-prefix/backups/any-backup/any-backup.tar.gz, s3:PutObjectRetention on ${BUCKET}/prod-eu-1/backups/daily-20250101020000/velero-backup.json, s3:PutObjectRetention on ${BUCKET}/prod-eu-1/backups/prod-eu-1-credentials-20250101020000/velero-backup.json and 3 more such requests. Fix: Remove these actions from its policies; only the account's administrators should hold them.`,
            ),
        ],
    },
    {
        name: "GOVERNANCE instead of COMPLIANCE: refused unless the pack's requireCompliance is false",
        stack: "prod",
        kind: "config",
        config: { lockMode: "GOVERNANCE" },
        expect: [
            ...["vault-lock", "vault-replica-lock"].map((lock) =>
                mandatory(
                    "vault-bucket-object-lock",
                    `The vault's default retention mode must be COMPLIANCE (this policy's requireCompliance is on). Found: BucketObjectLockConfiguration gitops-dr-prod-${lock} uses "GOVERNANCE". Fix: Set gitops-dr:lockMode to COMPLIANCE once gitops-dr:lockDays is right; it applies to versions written from then on.`,
                ),
            ),
            {
                policyName: "vault-lock-governance-mode",
                enforcementLevel: "advisory",
                message:
                    'A protect stack\'s vault should retain backups in COMPLIANCE mode, which nobody, not even the account root, can lift before it expires. Found: BucketObjectLockConfiguration gitops-dr-prod-vault-lock uses GOVERNANCE, which any principal with s3:BypassGovernanceRetention can lift. Fix: Set gitops-dr:lockMode to COMPLIANCE once gitops-dr:lockDays is right (docs/design.md, "Lock modes").',
            },
            {
                policyName: "vault-lock-governance-mode",
                enforcementLevel: "advisory",
                message:
                    'A protect stack\'s vault should retain backups in COMPLIANCE mode, which nobody, not even the account root, can lift before it expires. Found: BucketObjectLockConfiguration gitops-dr-prod-vault-replica-lock uses GOVERNANCE, which any principal with s3:BypassGovernanceRetention can lift. Fix: Set gitops-dr:lockMode to COMPLIANCE once gitops-dr:lockDays is right (docs/design.md, "Lock modes").',
            },
        ],
    },
    {
        name: "the drill's restorer may delete prod's backups",
        stack: "drill",
        kind: "code",
        fault: (run) =>
            editPolicy(one(run, "aws:iam/policy:Policy", "-velero-iam-restorer"), (d) =>
                d.Statement.push({ Effect: "Allow", Action: "s3:DeleteObject", Resource: `${BUCKET}/prod-eu-1/*` }),
            ),
        expect: [
            mandatory(
                "iam-restore-role-read-only",
                `A recovery or drill role must not be able to delete or overwrite the backups it restores from. Found: Role gitops-dr-drill-velero-iam-role can s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/daily-20250101020000/velero-backup.json, s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/daily-20250101020000/daily-20250101020000.tar.gz, s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/daily-20250101020000/daily-20250101020000-podvolumebackups.json.gz and 24 more such requests. Fix: ${RESTORE_FIX}`,
            ),
        ],
    },
    {
        name: "the drill's location can write",
        stack: "drill",
        kind: "code",
        fault: (run) => readOnlyLocation(run).makeWritable(),
        expect: (run) => [
            mandatory(
                "velero-drill-read-only",
                `A drill must only read the vault: every backup storage location must be ReadOnly and there must be no backup schedule. Found: location ${readOnlyLocation(run).name} (${readOnlyLocation(run).where}) has accessMode ReadWrite. Fix: Set accessMode: ReadOnly; a drill has only the read-only source location (gitops-dr:mode drill).`,
            ),
        ],
    },
    {
        name: "the recovery's source location can write",
        stack: "recover",
        kind: "code",
        fault: (run) => readOnlyLocation(run).makeWritable(),
        expect: (run) => [
            mandatory(
                "velero-recover-source-read-only",
                `A recovery must only read the lost cluster's backups: every backup storage location but its own default one must be ReadOnly, and its own must write under a prefix of its own. Found: location ${readOnlyLocation(run).name} (${readOnlyLocation(run).where}) is not the default location and has accessMode ReadWrite. Fix: Set accessMode: ReadOnly on it (gitops-dr's source location is).`,
            ),
        ],
    },
    {
        name: "the recovery's writer covers the whole bucket instead of its prefix",
        stack: "recover",
        kind: "code",
        fault: (run) =>
            editPolicy(one(run, "aws:iam/policy:Policy", "-velero-iam-writer"), (d) => {
                d.Statement.find((s) => s.Sid === "ReadWriteOwnPrefix")!.Resource = `${BUCKET}/*`;
            }),
        expect: [
            mandatory(
                "iam-restore-role-read-only",
                `A recovery or drill role must not be able to delete or overwrite the backups it restores from. Found: Role gitops-dr-recover-velero-iam-role can s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/daily-20250101020000/velero-backup.json, s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/daily-20250101020000/daily-20250101020000.tar.gz, s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/daily-20250101020000/daily-20250101020000-podvolumebackups.json.gz and 55 more such requests. Fix: ${RESTORE_FIX}`,
            ),
        ],
    },
    // Issue #20: the paths that lost backups or let a broken stack through, each as a hand-edited program would.
    {
        name: "the drill's restorer may overwrite kopia's fixed-name blobs (its Deny removed, kopia/* granted)",
        stack: "drill",
        kind: "code",
        fault: (run) =>
            editPolicy(one(run, "aws:iam/policy:Policy", "-velero-iam-restorer"), (d) => {
                d.Statement = d.Statement.filter((st) => st.Sid !== "DenyKopiaFixedBlobs");
                d.Statement.find((st) => st.Sid === "AddKopiaSessionBlobs")!.Resource = `${BUCKET}/prod-eu-1/kopia/*`;
            }),
        expect: [
            mandatory(
                "iam-restore-role-read-only",
                `A recovery or drill role must not be able to delete or overwrite the backups it restores from. Found: Role gitops-dr-drill-velero-iam-role can s3:PutObject on ${BUCKET}/prod-eu-1/kopia/default/kopia.repository, s3:PutObject on ${BUCKET}/prod-eu-1/kopia/default/kopia.repository.backup.velero@restorer, s3:PutObject on ${BUCKET}/prod-eu-1/kopia/default/kopia.blobcfg and 13 more such requests. Fix: ${RESTORE_FIX}`,
            ),
        ],
    },
    {
        name: "the drill's restorer may delete the backups of the schedule it restores, by name pattern",
        stack: "drill",
        kind: "code",
        fault: (run) =>
            editPolicy(one(run, "aws:iam/policy:Policy", "-velero-iam-restorer"), (d) =>
                d.Statement.push({
                    Effect: "Allow",
                    Action: "s3:DeleteObject",
                    Resource: `${BUCKET}/prod-eu-1/backups/prod-eu-1-*`,
                }),
            ),
        expect: [
            mandatory(
                "iam-restore-role-read-only",
                `A recovery or drill role must not be able to delete or overwrite the backups it restores from. Found: Role gitops-dr-drill-velero-iam-role can s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/prod-eu-1-credentials-20250101020000/velero-backup.json, s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/prod-eu-1-credentials-20250101020000/prod-eu-1-credentials-20250101020000.tar.gz, s3:DeleteObject on ${BUCKET}/prod-eu-1/backups/prod-eu-1-credentials-20250101020000/prod-eu-1-credentials-20250101020000-podvolumebackups.json.gz and 9 more such requests. Fix: ${RESTORE_FIX}`,
            ),
        ],
    },
    {
        name: "the vault lets SSE-C uploads through (blockedEncryptionTypes dropped)",
        stack: "prod",
        kind: "code",
        fault: (run) => {
            const sse = one(
                run,
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "-vault-encryption",
            );
            for (const rule of sse.inputs.rules as Record<string, unknown>[]) {
                delete rule.blockedEncryptionTypes;
            }
        },
        expect: [
            mandatory(
                "vault-bucket-encryption",
                'A vault bucket must refuse uploads encrypted with a customer-provided key (SSE-C): such a version is unreadable to anyone without that key, Velero included. Found: BucketServerSideEncryptionConfiguration gitops-dr-prod-vault-encryption does not list SSE-C in blockedEncryptionTypes. Fix: Set blockedEncryptionTypes: ["SSE-C"] on its rule (gitops-dr\'s BackupVault does).',
            ),
        ],
    },
    {
        name: "the bucket policy no longer denies SSE-C",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            editPolicy(one(run, "aws:s3/bucketPolicy:BucketPolicy", "-vault-policy"), (d) => {
                d.Statement = d.Statement.filter((st) => st.Sid !== "DenyCustomerProvidedKeys");
            }),
        expect: [
            mandatory(
                "vault-bucket-encryption",
                'A vault bucket\'s policy must deny uploads that carry a customer-provided key (SSE-C), whatever a principal\'s own policies allow. Found: BucketPolicy gitops-dr-prod-vault-policy does not deny s3:PutObject with x-amz-server-side-encryption-customer-algorithm. Fix: Add a statement denying s3:PutObject to Principal "*" when s3:x-amz-server-side-encryption-customer-algorithm is present (Null: "false"), as components/iam.ts bucketPolicy does.',
            ),
        ],
    },
    {
        name: "the bucket policy lets anyone bypass governance retention",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            editPolicy(one(run, "aws:s3/bucketPolicy:BucketPolicy", "-vault-policy"), (d) =>
                d.Statement.push({
                    Sid: "Support",
                    Effect: "Allow",
                    Principal: "*",
                    Action: ["s3:BypassGovernanceRetention", "s3:DeleteObjectVersion"],
                    Resource: `${BUCKET}/*`,
                }),
            ),
        expect: [
            mandatory(
                "vault-bucket-policy-no-grants",
                `A vault bucket's policy must not allow anyone to delete, overwrite or unlock a backup, or to weaken the bucket's protection: it grants beside every role's own policies. Found: BucketPolicy gitops-dr-prod-vault-policy statement Support allows s3:DeleteObjectVersion, s3:BypassGovernanceRetention on ${BUCKET}/*. Fix: Remove the statement; grant what Velero needs in its roles' identity policies (components/iam.ts), and keep the bucket policy to Deny statements.`,
            ),
        ],
    },
    {
        // AWS gives a key created without a policy its default one (engine/providers/aws.ts), which the pack evaluates.
        name: "the vault key has no key policy (AWS gives it the account default)",
        stack: "prod",
        kind: "code",
        fault: (run) => delete one(run, "aws:kms/key:Key", "-vault-key").inputs.policy,
        expect: [
            mandatory(
                "vault-kms-key",
                "A vault KMS key's policy must refuse every principal but the break-glass ones kms:DisableKey, kms:ScheduleKeyDeletion and kms:PutKeyPolicy: without it any administrator can make every backup unreadable. Found: under Key gitops-dr-prod-vault-key's policy an administrator may kms:DisableKey, kms:ScheduleKeyDeletion, kms:PutKeyPolicy. Fix: Give the key the policy components/iam.ts vaultKeyPolicy builds, with gitops-dr:breakGlassPrincipalArns naming the only principals that may.",
            ),
        ],
    },
    {
        name: "the replica's key no longer rotates",
        stack: "prod",
        kind: "code",
        fault: (run) => (one(run, "aws:kms/key:Key", "-vault-replica-key").inputs.enableKeyRotation = false),
        expect: [
            mandatory(
                "vault-kms-key",
                "A vault KMS key must rotate its key material every year. Found: Key gitops-dr-prod-vault-replica-key has enableKeyRotation false. Fix: Set enableKeyRotation: true (gitops-dr's BackupVault does).",
            ),
        ],
    },
    {
        name: "a lifecycle rule on the backups prefix expires current versions",
        stack: "prod",
        kind: "code",
        fault: (run) =>
            (
                one(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-vault-lifecycle").inputs
                    .rules as Record<string, unknown>[]
            ).push({ id: "tidy", status: "Enabled", filter: { prefix: "prod-eu-1/" }, expiration: { days: 14 } }),
        expect: [
            mandatory(
                "vault-bucket-lifecycle",
                "A vault bucket's lifecycle must never expire current versions: that deletes backups Velero still lists, on a schedule no TTL controls. Found: BucketLifecycleConfiguration gitops-dr-prod-vault-lifecycle rule tidy expires current versions (after 14 days). Fix: Remove expiration.days and expiration.date; keep only expiration.expiredObjectDeleteMarker, and let Velero's TTL delete backups.",
            ),
        ],
    },
    {
        name: "the vault's bucket policy is not protected",
        stack: "prod",
        kind: "code",
        fault: (run) => (one(run, "aws:s3/bucketPolicy:BucketPolicy", "-vault-policy").protect = false),
        expect: [
            mandatory(
                "vault-resources-protected",
                "The vault's buckets, their configurations and KMS keys must be protected, so that pulumi destroy refuses to delete them. Found: BucketPolicy gitops-dr-prod-vault-policy has protect false. Fix: Create it with the resource option protect: true (gitops-dr's BackupVault does).",
            ),
        ],
    },
    {
        name: "the recovery's daily Schedule writes to the read-only source location",
        stack: "recover",
        kind: "code",
        fault: (run) => (daily(run).template.storageLocation = readOnlyLocation(run).name),
        expect: (run) => [
            mandatory(
                "velero-schedule-location",
                `Every backup schedule must write to a backup storage location of the stack that accepts backups; otherwise every backup it starts fails and nothing is backed up. Found: ${daily(run).where} writes to location ${readOnlyLocation(run).name} (${readOnlyLocation(run).where}), which is ReadOnly. Fix: Point the schedule at the stack's own ReadWrite location; a ReadOnly location only serves restores.`,
            ),
        ],
    },
    {
        name: "prod's daily Schedule writes to a location nobody registers",
        stack: "prod",
        kind: "code",
        fault: (run) => (daily(run).template.storageLocation = "offsite"),
        expect: (run) => [
            mandatory(
                "velero-schedule-location",
                `Every backup schedule must write to a backup storage location of the stack that accepts backups; otherwise every backup it starts fails and nothing is backed up. Found: ${daily(run).where} writes to location offsite, which the stack does not register. Fix: Set the template's storageLocation to the stack's own ReadWrite location (gitops-dr's schedules use the default one).`,
            ),
        ],
    },
    {
        name: "Argo CD's Dex floats on latest",
        stack: "prod",
        kind: "code",
        fault: (run) => {
            const argo = one(run, "kubernetes:helm.sh/v3:Release", "argocd-release").inputs.values as Record<
                string,
                Record<string, Record<string, unknown>>
            >;
            argo.dex.image.tag = "latest";
        },
        expect: [
            mandatory(
                "argocd-release-versions-pinned",
                'Every chart and image the stack deploys must be pinned to an exact version or digest, so that only a reviewed change can change what runs. Found: Release gitops-dr-prod-argocd-release values.dex.image has tag "latest". Fix: Pin it to an exact tag or a sha256 digest (components/versions.ts holds every pinned image).',
            ),
        ],
    },
    {
        name: "Velero's kubectl image has a malformed digest",
        stack: "prod",
        kind: "code",
        fault: (run) => ((values(run).kubectl as Record<string, Record<string, unknown>>).image.digest = "sha256:1234"),
        expect: [
            mandatory(
                "argocd-release-versions-pinned",
                'Every chart and image the stack deploys must be pinned to an exact version or digest, so that only a reviewed change can change what runs. Found: Release gitops-dr-prod-velero-release values.kubectl.image has the malformed digest "sha256:1234". Fix: Pin it to an exact tag or a sha256 digest (components/versions.ts holds every pinned image).',
            ),
        ],
    },
    {
        name: "the Argo CD chart version is a range",
        stack: "prod",
        kind: "code",
        fault: (run) => (one(run, "kubernetes:helm.sh/v3:Release", "argocd-release").inputs.version = "^10.1.0"),
        expect: [
            mandatory(
                "argocd-release-versions-pinned",
                'Every chart and image the stack deploys must be pinned to an exact version or digest, so that only a reviewed change can change what runs. Found: Release gitops-dr-prod-argocd-release has chart version "^10.1.0". Fix: Set the release\'s version to an exact chart version (components/versions.ts).',
            ),
        ],
    },
    {
        name: "a git token in plain text in the root Application's repoURL",
        stack: "prod",
        kind: "code",
        fault: (run) => {
            const app = run.resources.find((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application")!;
            const source = (app.inputs.spec as Record<string, Record<string, unknown>>).source;
            source.repoURL = "https://ghp_0123456789abcdefghijklmnopqrstuvwxyzAB@github.com/acme/platform-gitops.git";
        },
        expect: (run) => [
            mandatory(
                "velero-no-plaintext-credentials",
                `AWS keys, the repository password and other credentials (private keys, git tokens) must only appear in Kubernetes Secret data, which Pulumi keeps encrypted; anywhere else they are stored and displayed in plain text. Found: a git hosting token in Application ${run.resources.find((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Application")!.name} at spec.source.repoURL. Fix: Keep it in a Kubernetes Secret's stringData, set from pulumi config set --secret (gitops-dr:awsAccessKeyId, gitops-dr:awsSecretAccessKey, gitops-dr:repoPassword, gitops-dr:gitPassword, gitops-dr:gitSshPrivateKey), and reference the Secret (credentials.existingSecret for the AWS keys).`,
            ),
        ],
    },
];
