/**
 * The object keys a vault holds under a cluster's prefix, built from what the stack itself registers (its
 * schedules, its Restores' schedule and backup names and namespaces) and kopia's fixed blob names, so that the
 * IAM rules ask about the keys this stack's backups really have, not about fixed samples a pattern like
 * `<prefix>/backups/prod-eu-1-*` would miss. And the statement-level test that needs no sample at all: whether an
 * Allow's resource pattern can match any key of a protected area (IAM `*` and `?` globs, intersected).
 */
import { Request, showRequests, statements } from "./iam";
import { restores, schedules } from "./velero";
import { StackView } from "./view";
import { Json, at, str, strings } from "./values";

/**
 * kopia's fixed-name blobs in a repository directory (kopia v0.22.3, the release nearest to the fork Velero
 * v1.18.1 pins): `kopia.repository` (`repo/format/format_blob.go`), `kopia.repository.backup.<owner>`
 * (`repo/format/upgrade_lock.go`), `kopia.blobcfg` (`repo/format/blobcfg_blob.go`), `kopia.maintenance`
 * (`repo/maintenance/maintenance_schedule.go`), `.storageconfig` (`repo/blob/s3/s3_storage_config.go`) and
 * `.shards` (`repo/blob/sharded/sharded_parameters.go`). Written at creation and rewritten in place, so their
 * locked versions have long expired: an overwrite loses the repository. components/iam.ts denies them to
 * restorers; tests/policies/iam.test.ts checks both lists agree.
 */
export const KOPIA_FIXED_BLOBS = [
    "kopia.repository",
    "kopia.repository.backup.velero@restorer",
    "kopia.blobcfg",
    "kopia.maintenance",
    ".storageconfig",
    ".shards",
] as const;

/**
 * Files Velero writes for a backup `<name>` under `backups/<name>/` (velero `pkg/persistence/object_store.go`):
 * the metadata, the resources and the volume backups list; the rest share the same directory, so a grant that
 * reaches these reaches them.
 */
const BACKUP_FILES = (name: string): string[] => [
    "velero-backup.json",
    `${name}.tar.gz`,
    `${name}-podvolumebackups.json.gz`,
];

/** A timestamp as Velero suffixes a scheduled backup's name (`<schedule>-20060102150405`). */
const SAMPLE_TIMESTAMP = "20250101020000";

/**
 * Namespaces whose kopia directories the requests name: `default`, and names starting with the letters a
 * restorer may put (`q`, `s`, `x`), so a grant like `kopia/*\/s*` that would also match `kopia/staging/...` shows.
 */
const SAMPLE_NAMESPACES = ["default", "staging", "queue", "xfer"];

/** What a stack knows about the backups under a prefix. */
export interface BackupNames {
    /** Backup names: Restores' `backupName`s, and `<schedule>-<timestamp>` for every schedule the stack knows. */
    readonly backups: readonly string[];
    /** Namespaces with kopia repositories: the Restores' and schedules' included namespaces, and samples. */
    readonly namespaces: readonly string[];
}

/** The backup and namespace names the stack's own registrations give. */
export function backupNames(view: StackView): BackupNames {
    const scheduleNames = new Set<string>(schedules(view).map((s) => s.name));
    const backups = new Set<string>(["daily-" + SAMPLE_TIMESTAMP]);
    const namespaces = new Set<string>(SAMPLE_NAMESPACES);
    for (const restore of restores(view)) {
        const spec = (at(restore.props, "spec") ?? {}) as Json;
        const schedule = str(spec.scheduleName);
        if (schedule !== undefined && schedule !== "") {
            scheduleNames.add(schedule);
        }
        const backup = str(spec.backupName);
        if (backup !== undefined && backup !== "") {
            backups.add(backup);
        }
        strings(spec.includedNamespaces).forEach((n) => n !== "*" && namespaces.add(n));
    }
    for (const s of schedules(view)) {
        strings(s.template.includedNamespaces).forEach((n) => n !== "*" && namespaces.add(n));
    }
    scheduleNames.forEach((s) => backups.add(`${s}-${SAMPLE_TIMESTAMP}`));
    return { backups: [...backups].sort(), namespaces: [...namespaces].sort() };
}

/** The object keys (ARNs) of the backups and kopia repositories under `<bucketArn>/<prefix>`. */
export function protectedObjects(
    bucketArn: string,
    prefix: string,
    names: BackupNames,
): { metadata: string[]; fixed: string[]; packs: string[]; session: string[] } {
    const base = prefix === "" ? bucketArn : `${bucketArn}/${prefix}`;
    return {
        metadata: names.backups.flatMap((b) => BACKUP_FILES(b).map((f) => `${base}/backups/${b}/${f}`)),
        // Every fixed name in the first namespace; in the others the two whose loss is total.
        fixed: names.namespaces.flatMap((ns, i) =>
            (i === 0 ? KOPIA_FIXED_BLOBS : KOPIA_FIXED_BLOBS.slice(0, 1).concat(".storageconfig")).map(
                (f) => `${base}/kopia/${ns}/${f}`,
            ),
        ),
        packs: names.namespaces.map((ns) => `${base}/kopia/${ns}/p0123456789abcdef0123456789abcdef`),
        session: names.namespaces.flatMap((ns) => [
            `${base}/kopia/${ns}/q0123456789abcdef0123456789abcdef`,
            `${base}/kopia/${ns}/xn0_0123456789abcdef0123456789abcdef-s0123456789abcdef-c1`,
        ]),
    };
}

/** Actions that delete, overwrite, unlock or re-lock an object version. */
export const DESTRUCTIVE_OBJECT_ACTIONS = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
] as const;

/**
 * Requests that would delete or overwrite a backup under a prefix: every destructive action on every backup
 * file and on kopia's fixed names and data packs; `PutObject` on backup files, fixed names and data packs; and,
 * unless `allowKopiaBlobWrites`, `PutObject` on the blobs a kopia write session adds.
 */
export function backupDestructionRequests(
    bucketArn: string,
    prefix: string,
    names: BackupNames,
    allowKopiaBlobWrites: boolean,
): Request[] {
    const objects = protectedObjects(bucketArn, prefix, names);
    const all = [...objects.metadata, ...objects.fixed, ...objects.packs, ...objects.session];
    // Deletes on every key; the lock changes, which iam-role-no-lock-bypass also asks, on one key of each kind.
    const representatives = [objects.metadata[0], objects.fixed[0], objects.packs[0], objects.session[0]];
    return [
        ...all.map((resource) => ({ action: "s3:DeleteObject", resource })),
        ...representatives.flatMap((resource) =>
            DESTRUCTIVE_OBJECT_ACTIONS.filter((a) => a !== "s3:DeleteObject").map((action) => ({ action, resource })),
        ),
        ...[...objects.metadata, ...objects.fixed, ...objects.packs].map((resource) => ({
            action: "s3:PutObject",
            resource,
        })),
        ...(allowKopiaBlobWrites ? [] : objects.session.map((resource) => ({ action: "s3:PutObject", resource }))),
    ];
}

/**
 * Whether two IAM globs (`*` any run of characters, `?` one character, both spanning `/`) can match a common
 * string: a walk over pairs of positions, where a `*` on either side may take nothing or the other side's next
 * character. Case-sensitive, as S3 keys are.
 */
export function globsOverlap(a: string, b: string): boolean {
    const seen = new Set<string>();
    const walk = (i: number, j: number): boolean => {
        const key = `${i},${j}`;
        if (seen.has(key)) {
            return false;
        }
        seen.add(key);
        if (i === a.length && j === b.length) {
            return true;
        }
        const ca = a[i];
        const cb = b[j];
        if (ca === "*" && walk(i + 1, j)) {
            return true;
        }
        if (cb === "*" && walk(i, j + 1)) {
            return true;
        }
        if (i === a.length || j === b.length) {
            return false;
        }
        if (ca === "*" && cb === "*") {
            return walk(i + 1, j) || walk(i, j + 1);
        }
        if (ca === "*") {
            return walk(i, j + 1);
        }
        if (cb === "*") {
            return walk(i + 1, j);
        }
        return (ca === cb || ca === "?" || cb === "?") && walk(i + 1, j + 1);
    };
    return walk(0, 0);
}

/** Whether an IAM action pattern (`s3:Delete*`, `*`) names `action`; actions are case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
    const re = new RegExp(
        `^${pattern
            .toLowerCase()
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, ".*")
            .replace(/\?/g, ".")}$`,
    );
    return re.test(action.toLowerCase());
}

/** An Allow statement that lets some principal take a destructive action on a protected area. */
export interface DestructiveGrant {
    readonly document: string;
    readonly sid: string;
    readonly actions: readonly string[];
    readonly resources: readonly string[];
}

/**
 * Allow statements of `documents` that grant one of `actions` on a resource pattern overlapping one of
 * `areas` (IAM globs). `NotAction` grants every action it does not name, `NotResource` every resource it does
 * not name: both are judged as overlapping, as the pack cannot prove otherwise.
 */
export function destructiveGrants(
    documents: readonly { readonly name: string; readonly document: Json }[],
    actions: readonly string[],
    areas: readonly string[],
): DestructiveGrant[] {
    const result: DestructiveGrant[] = [];
    for (const { name, document } of documents) {
        statements(document).forEach((s, i) => {
            if (s.Effect !== "Allow") {
                return;
            }
            const listed = (v: unknown) => strings(v);
            const granted =
                s.NotAction !== undefined
                    ? actions.filter((a) => !listed(s.NotAction).some((p) => actionMatches(p, a)))
                    : actions.filter((a) => listed(s.Action).some((p) => actionMatches(p, a)));
            if (granted.length === 0) {
                return;
            }
            const resources =
                s.NotResource !== undefined
                    ? [`NotResource ${JSON.stringify(s.NotResource)}`]
                    : listed(s.Resource).filter((r) => areas.some((area) => globsOverlap(r, area)));
            if (resources.length > 0) {
                result.push({ document: name, sid: str(s.Sid) ?? `Statement[${i}]`, actions: granted, resources });
            }
        });
    }
    return result;
}

/** `policy statement Sid allows s3:DeleteObject on arn:...` for a message. */
export function showGrants(grants: readonly DestructiveGrant[]): string {
    return grants
        .map((g) => `${g.document} statement ${g.sid} allows ${g.actions.join(", ")} on ${g.resources.join(", ")}`)
        .join("; ");
}

/** The first `n` requests for a message, and how many more there are. */
export function showSomeRequests(requests: readonly Request[], n = 3): string {
    const shown = showRequests(requests.slice(0, n));
    return requests.length > n ? `${shown} and ${requests.length - n} more such requests` : shown;
}
