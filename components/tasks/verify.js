// @ts-check
/**
 * The weekly proof of a protected cluster's backups (components/verify): its newest daily backup restored into
 * scratch namespaces (Velero namespace mapping), checked by the same tasks as every restore (pre-restore.js: the
 * backup, the StorageClasses; post-restore.js: the backup Velero restored, every warning, every claim Bound), then
 * everything it created removed, whatever happened. Run by a CronJob's Job; its failure fails the Job, which is what
 * the verification alerts read (kube-state-metrics `kube_cronjob_status_last_successful_time`).
 *
 * - Bounded: at most `namespacesPerRun` namespaces and `maxClaims` claims per run, in a rotation over the backup's
 *   namespaces (sorted), so every namespace is proven within ceil(namespaces / namespacesPerRun) runs.
 * - Never touches a live namespace: the Restore includes only the chosen namespaces and maps every one of them to a
 *   scratch namespace the task created and labelled; existingResourcePolicy `none`. PersistentVolumes are left out
 *   of the Restore: a claim's data comes back through the data mover, which provisions a new volume and binds the
 *   scratch claim to it only once the data is written (velero v1.18.1 `pkg/exposer/generic_restore.go`
 *   `RebindVolume`), so Bound means holding the data. A volume kept outside the vault (native snapshot, static
 *   NFS/EFS) cannot come back without its PV: its claim stays Pending and the run names it.
 * - Writes nothing to the vault but the Restore's logs (Velero uploads them); deleting a Restore makes Velero delete
 *   them again (`restores.velero.io/external-resources-finalizer`). The last `keepRestores` verification Restores
 *   stay for `velero restore describe`.
 * - The result, passed or failed, with the failing namespace and claim named, goes to the ConfigMap
 *   `resultConfigMap` in Velero's namespace: where to look without the Prometheus operator.
 */
"use strict";

const { writeRecord } = require("./kube");
const { postRestore } = require("./post-restore");
const { TaskFailure, TERMINAL_RESTORE_PHASES, preRestore } = require("./pre-restore");

/** The label of a scratch namespace: the Restore it was made for. */
const SCRATCH_LABEL = "gitops-dr.io/verify-scratch";
/** The label of a verification Restore. */
const VERIFICATION_LABEL = "gitops-dr.io/verification";

/**
 * @typedef {import("./kube").KubeApi} KubeApi
 * @typedef {import("./kube").KubeObject} KubeObject
 * @typedef {object} VerifyArgs
 * @property {string} veleroNamespace
 * @property {string} scheduleName The cluster's daily Schedule.
 * @property {string} restorePrefix Verification Restores are named `<restorePrefix><UTC time>`.
 * @property {Record<string, unknown>} spec The Restore's spec without backup and namespaces (components/verify).
 * @property {number} namespacesPerRun
 * @property {number} maxClaims
 * @property {number} periodSeconds The schedule's period: the rotation advances one step per period.
 * @property {string[]} excludedNamespaces Never verified (Velero's, Argo CD's, the system's).
 * @property {number} restoreTimeoutMinutes
 * @property {number} keepRestores
 * @property {string} resultConfigMap
 * @property {string} [notVerifiableConfigMap] Exists while some namespaces are not verifiable (see
 *   {@link markNotVerifiable}).
 *
 * @typedef {object} VerifyResult
 * @property {string} restoreName
 * @property {string} backup
 * @property {string[]} namespaces The namespaces proven (their scratch copies restored and checked).
 * @property {number} claims
 * @property {string[]} notThisRun The backup's other namespaces, proven in later runs.
 * @property {string[]} notVerifiable Namespaces this verification cannot prove, which only a drill proves.
 * @property {Record<string, string>} notVerifiableReasons Why, for each of them.
 * @property {Record<string, string>} notVerifiableSince Since which run each of them has been (continuously).
 */

/**
 * The namespaces a scratch restore cannot prove, and why (the first reason a namespace has). A scratch restore takes
 * no pods and no PersistentVolumes (a PV of the backup would name the live cluster's storage), and Velero decides a
 * claim's binding while it restores the claim's PV (velero v1.18.1 `pkg/restore/restore.go`, `pvsToProvision`), so
 * only a claim the data mover moved comes back with its data. The others would stay Pending, naming their old
 * volume, and fail every run: file-system backup data comes back only into a pod Velero restores (its `restore-wait`
 * init container), a native snapshot (`volumeDataMode` nativeSnapshots) only as a new volume of the PV, and a volume
 * restored as it is (static NFS/EFS) is the live one. They are left out and named, with the reason, in the record;
 * the run still proves the cluster's other namespaces. A drill proves them (README "Backups proven every week").
 * @param {import("./pre-restore").PreRestoreResult} pre
 * @returns {Record<string, string>}
 */
function notVerifiable(pre) {
    /** @type {Record<string, string>} */
    const reasons = {};
    /** @type {(ns: string, why: string) => void} */
    const add = (ns, why) => {
        reasons[ns] = reasons[ns] ?? why;
    };
    for (const p of pre.vessels.withData) {
        add(
            p.namespace,
            `file-system backup data (pod ${p.name}): it comes back only into a pod Velero restores, and a scratch restore takes none`,
        );
    }
    for (const { claim, fate } of pre.withVolumeOnly) {
        const [ns, name] = claim.split("/");
        add(
            ns,
            fate === "snapshot"
                ? `native snapshot (claim ${name}): it comes back only as a new volume of its PersistentVolume, which a scratch restore leaves out`
                : `volume kept as it is outside the vault (claim ${name}): restoring it would mount the live storage`,
        );
    }
    return Object.fromEntries(Object.entries(reasons).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The namespaces of this run: a window of the sorted list that moves by `perRun` every period.
 * @param {string[]} all sorted
 * @param {number} perRun
 * @param {number} step how many periods since the epoch
 */
function rotation(all, perRun, step) {
    if (all.length <= perRun) {
        return [...all];
    }
    const start = (step * perRun) % all.length;
    return [...all, ...all].slice(start, start + perRun);
}

/** Scratch namespaces are named `<prefix><source namespace>`. */
const SCRATCH_PREFIX = "gdr-verify-";
/** The scratch copy's name: a DNS label (a source name cut to fit could clash with another: refused at create). */
const scratchName = (/** @type {string} */ ns) => `${SCRATCH_PREFIX}${ns}`.slice(0, 63).replace(/-+$/, "");

/**
 * Removes what verification runs left: scratch namespaces of any run (a killed Job leaves them) and all but the
 * newest `keep` verification Restores.
 * @param {KubeApi} api
 * @param {VerifyArgs} args
 * @param {number} keep
 */
async function cleanup(api, args, keep) {
    for (const ns of await api.list("/api/v1/namespaces", SCRATCH_LABEL)) {
        await api.remove(`/api/v1/namespaces/${ns.metadata.name}`);
    }
    const restores = (
        await api.list(`/apis/velero.io/v1/namespaces/${args.veleroNamespace}/restores`, `${VERIFICATION_LABEL}=true`)
    ).sort((a, b) => String(b.metadata.name).localeCompare(String(a.metadata.name)));
    for (const r of restores.slice(keep)) {
        await api.remove(`/apis/velero.io/v1/namespaces/${args.veleroNamespace}/restores/${r.metadata.name}`);
    }
}

/**
 * @param {KubeApi} api
 * @param {VerifyArgs} args
 * @param {string} restoreName
 */
async function awaitRestore(api, args, restoreName) {
    const path = `/apis/velero.io/v1/namespaces/${args.veleroNamespace}/restores/${restoreName}`;
    const deadline = api.now().getTime() + args.restoreTimeoutMinutes * 60000;
    for (;;) {
        const phase = (await api.get(path))?.status?.phase ?? "";
        if (TERMINAL_RESTORE_PHASES.includes(phase)) {
            if (phase !== "Completed") {
                throw new TaskFailure(
                    `Verification restore ${restoreName} ended ${phase}: the backup could not be restored. Read: velero restore describe ${restoreName} --details -n ${args.veleroNamespace}`,
                );
            }
            return;
        }
        if (api.now().getTime() > deadline) {
            throw new TaskFailure(
                `Verification restore ${restoreName} did not end in ${args.restoreTimeoutMinutes} minutes (phase ${phase || "none"}). Read: velero restore describe ${restoreName} -n ${args.veleroNamespace}`,
            );
        }
        await api.sleep(15000);
    }
}

/**
 * One run. Throws a TaskFailure (the Job fails) when the proof failed, after cleaning up and recording it.
 * @param {KubeApi} api
 * @param {VerifyArgs} args
 * @returns {Promise<VerifyResult>}
 */
async function verify(api, args) {
    const now = api.now();
    const restoreName = `${args.restorePrefix}${now.toISOString().replace(/[-:T]/g, "").slice(0, 14)}`;
    /** @type {Record<string, unknown>} */
    let record = { restoreName, startedAt: now.toISOString() };
    /** @type {Error | undefined} */
    let failure;
    try {
        await cleanup(api, args, args.keepRestores);
        const pre = await preRestore(api, {
            veleroNamespace: args.veleroNamespace,
            restoreName,
            restorePrefix: args.restorePrefix,
            scheduleName: args.scheduleName,
            scheduleKey: "dailySchedule",
            acceptOlderBackup: false,
            acceptPartiallyFailedBackup: false,
            storageClassMappings: {},
            namespaces: [],
            quarantineRetainedVolumes: false,
            restoresPods: false,
        });
        // Namespaces whose data a scratch restore cannot bring back are left out and named (`notVerifiable`).
        const reasons = Object.fromEntries(
            Object.entries(notVerifiable(pre)).filter(([ns]) => !args.excludedNamespaces.includes(ns)),
        );
        const candidates = pre.namespaces.filter((ns) => !args.excludedNamespaces.includes(ns) && !(ns in reasons));
        const step = Math.floor(now.getTime() / 1000 / args.periodSeconds);
        /** @type {string[]} */
        const chosen = [];
        let claims = 0;
        for (const ns of rotation(candidates, args.namespacesPerRun, step)) {
            const own = pre.claims.filter((c) => c.startsWith(`${ns}/`)).length;
            if (chosen.length > 0 && claims + own > args.maxClaims) {
                break;
            }
            if (own > args.maxClaims) {
                throw new TaskFailure(
                    `Namespace ${ns} holds ${own} claims, more than gitops-dr:verifyMaxClaims (${args.maxClaims}) allows in one run, so it is never verified. Fix: \`pulumi config set gitops-dr:verifyMaxClaims ${own}\` on the protect stack.`,
                );
            }
            chosen.push(ns);
            claims += own;
        }
        record = {
            ...record,
            backup: pre.backup.name,
            namespaces: chosen,
            notVerifiable: Object.keys(reasons),
            notVerifiableReasons: reasons,
            notVerifiableSince: await markNotVerifiable(api, args, reasons, now),
        };
        /** @type {Record<string, string>} */
        const mapping = Object.fromEntries(chosen.map((ns) => [ns, scratchName(ns)]));
        for (const scratch of Object.values(mapping)) {
            // Created and labelled first, so the cleanup finds them whatever happens next; an existing namespace of
            // that name that is not a scratch one (a live namespace) stops the run.
            await api.create("/api/v1/namespaces", {
                apiVersion: "v1",
                kind: "Namespace",
                metadata: { name: scratch, labels: { [SCRATCH_LABEL]: restoreName } },
            });
        }
        if (chosen.length > 0) {
            await api.create(`/apis/velero.io/v1/namespaces/${args.veleroNamespace}/restores`, {
                apiVersion: "velero.io/v1",
                kind: "Restore",
                metadata: {
                    name: restoreName,
                    namespace: args.veleroNamespace,
                    labels: { [VERIFICATION_LABEL]: "true" },
                },
                spec: {
                    ...args.spec,
                    backupName: pre.backup.name,
                    includedNamespaces: chosen,
                    namespaceMapping: mapping,
                },
            });
            await awaitRestore(api, args, restoreName);
            const post = await postRestore(api, {
                veleroNamespace: args.veleroNamespace,
                restoreName,
                restorePrefix: args.restorePrefix,
                expectedBackup: pre.backup.name,
                acceptWarnings: false,
                hint: "The scratch namespaces were new, so nothing existed: a warning is something the backup could not give back. ",
            });
            record = { ...record, claims: post.claims };
        }
        record = { ...record, passed: true, notThisRun: candidates.filter((ns) => !chosen.includes(ns)) };
    } catch (e) {
        failure = e instanceof Error ? e : new Error(String(e));
        record = { ...record, passed: false, failure: failure.message };
    } finally {
        // Whatever happened: the scratch namespaces go (with their claims and, for Delete volumes, their disks).
        await cleanup(api, args, args.keepRestores).catch((e) => {
            record = { ...record, cleanupFailed: String(e) };
        });
        record = { ...record, endedAt: api.now().toISOString() };
        await writeRecord(api, args.veleroNamespace, args.resultConfigMap, record);
    }
    if (failure !== undefined) {
        throw failure;
    }
    return /** @type {VerifyResult} */ (/** @type {unknown} */ (record));
}

/**
 * Keeps the ConfigMap `notVerifiableConfigMap` in Velero's namespace in step with what this run could not prove:
 * created by the first run that finds such namespaces, so its creation time (kube-state-metrics
 * `kube_configmap_created`, a default series) says since when some have gone without a weekly proof, which is what
 * the `GitopsDrBackupNamespacesNotVerifiable` alert reads (components/verify/alerts.ts); updated with each
 * namespace's reason and the first run that found it; deleted by the first run that finds none. Returns each
 * namespace's first run.
 * @param {KubeApi} api
 * @param {VerifyArgs} args
 * @param {Record<string, string>} reasons
 * @param {Date} now
 * @returns {Promise<Record<string, string>>}
 */
async function markNotVerifiable(api, args, reasons, now) {
    const name = args.notVerifiableConfigMap;
    if (name === undefined) {
        return {};
    }
    const path = `/api/v1/namespaces/${args.veleroNamespace}/configmaps`;
    const existing = await api.get(`${path}/${name}`);
    if (Object.keys(reasons).length === 0) {
        if (existing !== undefined) {
            await api.remove(`${path}/${name}`);
        }
        return {};
    }
    /** @type {Record<string, { since: string, reason: string }>} */
    const before = existing === undefined ? {} : JSON.parse(existing.data?.["namespaces.json"] ?? "{}");
    const namespaces = Object.fromEntries(
        Object.entries(reasons).map(([ns, reason]) => [ns, { since: before[ns]?.since ?? now.toISOString(), reason }]),
    );
    const data = {
        "namespaces.json": JSON.stringify(namespaces, null, 2),
        proof: "Only a drill proves these namespaces (README, Backups proven every week).",
    };
    if (existing === undefined) {
        await api.create(path, {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name, namespace: args.veleroNamespace },
            data,
        });
    } else {
        await api.mergePatch(`${path}/${name}`, { data });
    }
    return Object.fromEntries(Object.entries(namespaces).map(([ns, v]) => [ns, v.since]));
}

module.exports = { SCRATCH_LABEL, SCRATCH_PREFIX, VERIFICATION_LABEL, notVerifiable, rotation, scratchName, verify };
