// @ts-check
/**
 * The check after each scheduled backup (components/verify/backup-check.ts): every claim the newest backup of each
 * of the cluster's Schedules holds must have its data in the vault. A backup can end `Completed` without a claim's
 * data, and `velero backup describe` does not list skipped volumes; only the backup's BackupVolumeInfos, which Velero
 * writes to the bucket beside it (read through a DownloadRequest), records per volume how its data was kept
 * (velero v1.18.1 `internal/volume/volumes_information.go`). A claim has no data when:
 *
 * - BackupVolumeInfos has no entry for it: nothing backed it up (e.g. a file-system backup volume that no running pod
 *   mounted, `pkg/podvolume/backupper.go`);
 * - its entry is `skipped` (a hostPath volume, which neither file-system backup nor a CSI snapshot can take: the
 *   catch-all `snapshot` rule finds no volume snapshotter for it, `pkg/backup/item_backupper.go` `takePVSnapshot`);
 * - it was CSI-snapshotted but `snapshotDataMoved` is false: the snapshot stays in the cluster's storage and is lost
 *   with it (unless `snapshotsSuffice`: volumeDataMode nativeSnapshots keeps the data as the provider's snapshots);
 * - its data movement or its PodVolumeBackup did not complete (`result` "failed", the upload's `Phase`);
 * - a PartiallyFailed backup holds its PV (whose `claimRef` names it, in a namespace the backup takes) but not the
 *   claim itself: an item action on the claim failed (the CSI PVC action finding no VolumeSnapshotClass,
 *   `pkg/backup/actions/csi/pvc_action.go`), which drops it.
 *
 * A checked backup that ended PartiallyFailed also fails the run, naming it: some item errored and may be missing.
 *
 * Each such claim gets a marker ConfigMap in Velero's namespace named `<markerPrefix>.<namespace>.<claim>` (dots
 * cannot occur in a namespace, so the name parses back), which kube-state-metrics exports as `kube_configmap_info`
 * without any configuration: the alert names the claim from it (components/verify/alerts.ts). Markers of claims that
 * have their data again are removed. The run's record goes to `resultConfigMap`; a claim without data, a checked
 * backup that ended PartiallyFailed, or a newer backup that failed, fails the run (its Job fails: the CronJob alerts read that).
 *
 * Each run looks at the newest ended backup of each Schedule, so it keeps failing while that backup lacks data, and
 * passes once a newer one has it. A backup the last run passed (its record names it, checked by this version of the
 * check with the same settings) is not downloaded again: its contents and volume records cannot change, and
 * downloading and unpacking every Schedule's whole backup tarball each hour would strain the Job's memory. A failed
 * or missing record re-checks everything. A marker whose reason changes is patched, not recreated, so its
 * `kube_configmap_created` keeps the time the claim was first found without data.
 */
"use strict";

const { backupObjects, download, untar, writeRecord } = require("./kube");
const { TaskFailure } = require("./pre-restore");

/** The label a schedule's backups carry (`pkg/apis/velero/v1/labels_annotations.go`). */
const SCHEDULE_NAME_LABEL = "velero.io/schedule-name";
/** The label of a marker ConfigMap (a claim without data). */
const MARKER_LABEL = "gitops-dr.io/claim-without-data";
/** Phases a backup ends in (`pkg/apis/velero/v1/backup_types.go`); `Deleting` is not an end of a run. */
const ENDED = ["Completed", "PartiallyFailed", "Failed", "FailedValidation"];
/** Ended backups that hold what they could back up: the ones a restore can take. */
const CHECKED = ["Completed", "PartiallyFailed"];
/** What a passed record was checked with; a record of another version or other settings does not spare a check. */
const CHECK_VERSION = 2;

/**
 * @typedef {import("./kube").KubeApi} KubeApi
 * @typedef {import("./kube").KubeObject} KubeObject
 * @typedef {object} BackupCheckArgs
 * @property {string} veleroNamespace
 * @property {string[]} schedules The cluster's Schedules whose backups hold claims.
 * @property {string} markerPrefix Marker ConfigMaps are named `<markerPrefix>.<namespace>.<claim>`.
 * @property {string} resultConfigMap
 * @property {boolean} [snapshotsSuffice] volumeDataMode nativeSnapshots: a CSI snapshot left with the storage
 *   provider is the data the user chose (EBS snapshots outlive the cluster); with the data mover it is a failure.
 *
 * @typedef {object} ClaimWithoutData
 * @property {string} claim `namespace/name`
 * @property {string} schedule
 * @property {string} backup
 * @property {string} reason
 *
 * @typedef {object} ScheduleResult
 * @property {string} schedule
 * @property {string} [backup] The backup checked: the newest Completed or PartiallyFailed one.
 * @property {string} [phase]
 * @property {number} claims Claims it holds.
 * @property {number} withData
 * @property {{ name: string, phase: string }[]} newerFailed Newer backups that ended Failed or FailedValidation.
 * @property {string[]} running Newer backups still running (checked by a later run).
 * @property {string} [passedAt] When the backup was checked and passed, for one not downloaded again.
 */

/**
 * Whether a claim's BackupVolumeInfos entries hold its data; if not, why.
 * @param {KubeObject[]} infos the entries of this claim (a claim mounted by several pods may have several)
 * @param {boolean} [snapshotsSuffice] a snapshot not moved into the vault counts (volumeDataMode nativeSnapshots)
 * @returns {string | undefined} undefined when the data is kept
 */
function missingData(infos, snapshotsSuffice = false) {
    if (infos.length === 0) {
        return "the backup holds no data of it (BackupVolumeInfos has no entry: no snapshot and no file-system backup; a file-system backup volume is read only through a running pod that mounts it)";
    }
    /** @type {string[]} */
    const reasons = [];
    for (const v of infos) {
        const method = v.backupMethod ?? "";
        if (v.skipped === true) {
            reasons.push(`skipped: ${v.skippedReason || "no reason given"}`);
        } else if (method === "CSISnapshot" && v.snapshotDataMoved !== true && snapshotsSuffice) {
            // volumeDataMode nativeSnapshots: the snapshot is the data, kept by the storage provider (EBS).
            if (v.result !== "failed") {
                return undefined;
            }
            reasons.push("CSI snapshot did not complete");
        } else if (method === "CSISnapshot" && v.snapshotDataMoved !== true) {
            reasons.push(
                "CSI snapshot not moved into the vault: the snapshot stays in the cluster's storage and is lost with it",
            );
        } else if (method === "CSISnapshot") {
            const phase = v.snapshotDataMovementInfo?.Phase ?? "";
            if (v.result === "succeeded" || (v.result === undefined && phase === "Completed")) {
                return undefined;
            }
            reasons.push(`data movement did not complete (DataUpload ${phase || "phase unknown"})`);
        } else if (method === "PodVolumeBackup") {
            const phase = v.pvbInfo?.Phase ?? "";
            if (v.result === "succeeded" && (phase === "" || phase === "Completed")) {
                return undefined;
            }
            reasons.push(
                `file-system backup did not complete (PodVolumeBackup of pod ${v.pvbInfo?.podNamespace}/${v.pvbInfo?.podName} ${phase || "phase unknown"})`,
            );
        } else if (method === "NativeSnapshot") {
            if (v.result === "succeeded") {
                return undefined;
            }
            reasons.push(`native snapshot did not complete (${v.nativeSnapshotInfo?.Phase || "phase unknown"})`);
        } else {
            reasons.push(`unknown backup method ${JSON.stringify(method)}`);
        }
    }
    return reasons.join("; ");
}

/**
 * Whether a backup's namespace filter takes `namespace`: included (default all) and not excluded, each entry a glob
 * (velero v1.18.1 `pkg/util/collections/includes_excludes.go`; `*` and `?` as wildcards).
 * @param {KubeObject} spec the Backup's spec
 * @param {string} namespace
 */
function namespaceIncluded(spec, namespace) {
    /** @param {string} glob */
    const matches = (glob) =>
        new RegExp(
            `^${glob
                .split("")
                .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
                .join("")}$`,
        ).test(namespace);
    /** @type {string[]} */
    const included =
        Array.isArray(spec.includedNamespaces) && spec.includedNamespaces.length > 0 ? spec.includedNamespaces : ["*"];
    /** @type {string[]} */
    const excluded = Array.isArray(spec.excludedNamespaces) ? spec.excludedNamespaces : [];
    return included.some(matches) && !excluded.some(matches);
}

/**
 * The claims of one backup and whether each has its data.
 * @param {KubeApi} api
 * @param {BackupCheckArgs} args
 * @param {string} schedule
 * @param {KubeObject} backupObject
 * @returns {Promise<{ claims: number, without: ClaimWithoutData[] }>}
 */
async function checkBackup(api, args, schedule, backupObject) {
    const backup = String(backupObject.metadata.name);
    const files = untar(await download(api, args.veleroNamespace, "BackupContents", backup));
    const claims = backupObjects(files, "persistentvolumeclaims");
    const volumes = backupObjects(files, "persistentvolumes");
    /** @type {KubeObject[]} */
    const infos =
        JSON.parse((await download(api, args.veleroNamespace, "BackupVolumeInfos", backup)).toString("utf8")) ?? [];
    /** @type {Map<string, string>} claim `namespace/name` -> its volume's name */
    const held = new Map();
    for (const [id, claim] of claims) {
        const volume = claim.spec?.volumeName;
        // A claim without a volume held no data at backup time: nothing to keep.
        if (typeof volume === "string" && volume !== "") {
            held.set(id, volume);
        }
    }
    /** @type {Set<string>} claims whose PersistentVolumeClaim is not in the backup, though their PV is */
    const dropped = new Set();
    // Velero takes every PV (includeClusterResources), also those of claims its filters leave out (an excluded
    // namespace, a label): in a Completed backup a PV without its claim is such a one. Only an item's error drops
    // a claim the filters take, and an error always ends the backup PartiallyFailed.
    const errored = backupObject.status?.phase === "PartiallyFailed";
    for (const [name, pv] of errored ? volumes : []) {
        const ref = pv.spec?.claimRef;
        if (
            typeof ref?.namespace !== "string" ||
            typeof ref?.name !== "string" ||
            !namespaceIncluded(backupObject.spec ?? {}, ref.namespace)
        ) {
            continue;
        }
        const id = `${ref.namespace}/${ref.name}`;
        if (!held.has(id)) {
            // An item action that failed on the claim (e.g. the CSI PVC action finding no VolumeSnapshotClass,
            // velero v1.18.1 `pkg/backup/actions/csi/pvc_action.go`) ends it before it is written
            // (`pkg/backup/item_backupper.go` `backupItemInternal`): the claim is gone from the backup, its PV stays.
            held.set(id, name);
            dropped.add(id);
        }
    }
    /** @type {ClaimWithoutData[]} */
    const without = [];
    for (const [id, volume] of [...held].sort(([a], [b]) => a.localeCompare(b))) {
        const [namespace, name] = id.split("/");
        const own = infos.filter(
            (v) =>
                (v.pvcNamespace === namespace && v.pvcName === name) || (v.pvName !== undefined && v.pvName === volume),
        );
        const reason = dropped.has(id)
            ? `the backup holds its PersistentVolume ${volume} but not the claim: an action on the claim failed (e.g. no VolumeSnapshotClass Velero would select for its CSI driver)` +
              (own.length === 0 ? " and no data of it" : "")
            : missingData(own, args.snapshotsSuffice === true);
        if (reason !== undefined) {
            without.push({ claim: id, schedule, backup, reason });
        }
    }
    return { claims: held.size, without };
}

/**
 * When a backup started, for ordering: its start, else when its object was made, else its name (Velero names a
 * schedule's backups `<schedule>-<UTC yyyyMMddHHmmss>`).
 * @param {KubeObject} b
 */
const startOf = (b) => b.status?.startTimestamp ?? b.metadata?.creationTimestamp ?? "";

/**
 * One Schedule: its newest backup that holds data checked, the newer ones that failed or still run listed.
 * @param {KubeApi} api
 * @param {BackupCheckArgs} args
 * @param {string} schedule
 * @param {Map<string, ScheduleResult & { passedAt: string }>} passed backups the last run passed, by Schedule
 * @returns {Promise<{ result: ScheduleResult, without: ClaimWithoutData[] }>}
 */
async function checkSchedule(api, args, schedule, passed) {
    const backups = (
        await api.list(
            `/apis/velero.io/v1/namespaces/${args.veleroNamespace}/backups`,
            `${SCHEDULE_NAME_LABEL}=${schedule}`,
        )
    ).sort(
        (a, b) =>
            String(startOf(b)).localeCompare(String(startOf(a))) ||
            String(b.metadata.name).localeCompare(String(a.metadata.name)),
    );
    const newest = backups.findIndex((b) => CHECKED.includes(b.status?.phase ?? ""));
    const newer = newest < 0 ? backups : backups.slice(0, newest);
    /** @type {ScheduleResult} */
    const result = {
        schedule,
        claims: 0,
        withData: 0,
        newerFailed: newer
            .filter((b) => ENDED.includes(b.status?.phase ?? ""))
            .map((b) => ({ name: b.metadata.name, phase: b.status.phase })),
        running: newer.filter((b) => !ENDED.includes(b.status?.phase ?? "")).map((b) => b.metadata.name),
    };
    if (newest < 0) {
        return { result, without: [] };
    }
    const chosen = backups[newest];
    const before = passed.get(schedule);
    if (before !== undefined && before.backup === chosen.metadata.name && before.phase === chosen.status.phase) {
        return {
            result: {
                ...result,
                backup: before.backup,
                phase: before.phase,
                claims: before.claims,
                withData: before.withData,
                passedAt: before.passedAt,
            },
            without: [],
        };
    }
    const { claims, without } = await checkBackup(api, args, schedule, chosen);
    return {
        result: {
            ...result,
            backup: chosen.metadata.name,
            phase: chosen.status.phase,
            claims,
            withData: claims - without.length,
        },
        without,
    };
}

/**
 * A marker's name: a DNS subdomain (a namespace has no dot, so the first dot after the prefix ends it). A name cut
 * to 253 characters must still end in a letter or digit; the full claim is in the marker's data.
 * @param {string} prefix
 * @param {string} claim `namespace/name`
 */
const markerName = (prefix, claim) => `${prefix}.${claim.replace("/", ".")}`.slice(0, 253).replace(/[-.]+$/, "");

/**
 * Makes the marker ConfigMaps match the claims without data: one per claim, the others removed. Only ConfigMaps
 * with the marker label and the marker prefix are ever removed.
 * @param {KubeApi} api
 * @param {BackupCheckArgs} args
 * @param {ClaimWithoutData[]} without
 */
async function syncMarkers(api, args, without) {
    const path = `/api/v1/namespaces/${args.veleroNamespace}/configmaps`;
    /** @type {Map<string, Record<string, string>>} */
    const wanted = new Map();
    for (const c of without) {
        const name = markerName(args.markerPrefix, c.claim);
        const data = wanted.get(name) ?? { claim: c.claim };
        data[c.schedule] = `${c.backup}: ${c.reason}`;
        wanted.set(name, data);
    }
    const existing = (await api.list(path, `${MARKER_LABEL}=true`)).filter((m) =>
        String(m.metadata.name).startsWith(`${args.markerPrefix}.`),
    );
    for (const m of existing) {
        const data = wanted.get(m.metadata.name);
        if (data === undefined) {
            await api.remove(`${path}/${m.metadata.name}`);
            continue;
        }
        wanted.delete(m.metadata.name);
        /** @type {Record<string, string>} */
        const old = m.data ?? {};
        if (JSON.stringify(old) !== JSON.stringify(data)) {
            // A merge patch: keys no longer wanted (a Schedule whose backup has the claim's data now) are nulled.
            /** @type {Record<string, string | null>} */
            const patch = { ...data };
            for (const k of Object.keys(old)) {
                if (!(k in data)) {
                    patch[k] = null;
                }
            }
            await api.mergePatch(`${path}/${m.metadata.name}`, { data: patch });
        }
    }
    for (const [name, data] of wanted) {
        await api.create(path, {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name, namespace: args.veleroNamespace, labels: { [MARKER_LABEL]: "true" } },
            data,
        });
    }
}

/**
 * The backups the last run passed, by Schedule, when its record says it passed with `checkedWith`; else none.
 * @param {KubeApi} api
 * @param {BackupCheckArgs} args
 * @param {{ version: number, snapshotsSuffice: boolean }} checkedWith
 * @returns {Promise<Map<string, ScheduleResult & { passedAt: string }>>}
 */
async function lastPassed(api, args, checkedWith) {
    /** @type {Map<string, ScheduleResult & { passedAt: string }>} */
    const passed = new Map();
    const cm = await api.get(`/api/v1/namespaces/${args.veleroNamespace}/configmaps/${args.resultConfigMap}`);
    let last;
    try {
        last = JSON.parse(String(cm?.data?.["last-run.json"] ?? "null"));
    } catch {
        return passed;
    }
    if (last?.passed !== true || JSON.stringify(last.checkedWith) !== JSON.stringify(checkedWith)) {
        return passed;
    }
    for (const s of Array.isArray(last.schedules) ? last.schedules : []) {
        if (typeof s?.backup === "string" && s.phase === "Completed") {
            passed.set(String(s.schedule), { ...s, passedAt: s.passedAt ?? last.checkedAt });
        }
    }
    return passed;
}

/**
 * One run. Throws a TaskFailure (the Job fails) naming every claim without data and every newer failed backup,
 * after writing the markers and the record.
 * @param {KubeApi} api
 * @param {BackupCheckArgs} args
 */
async function backupCheck(api, args) {
    const checkedWith = { version: CHECK_VERSION, snapshotsSuffice: args.snapshotsSuffice === true };
    const passed = await lastPassed(api, args, checkedWith);
    /** @type {ScheduleResult[]} */
    const schedules = [];
    /** @type {ClaimWithoutData[]} */
    const without = [];
    for (const schedule of args.schedules) {
        const checked = await checkSchedule(api, args, schedule, passed);
        schedules.push(checked.result);
        without.push(...checked.without);
    }
    await syncMarkers(api, args, without);
    /** @type {string[]} */
    const problems = [];
    if (without.length > 0) {
        problems.push(
            `${without.length} backed-up claim${without.length === 1 ? " has" : "s have"} no data in the vault: ` +
                without
                    .slice(0, 20)
                    .map((c) => `${c.claim} in ${c.backup} (${c.reason})`)
                    .join(", ") +
                (without.length > 20 ? `, and ${without.length - 20} more` : "") +
                '. README "Homelab (k3s) storage" says what each reason needs.',
        );
    }
    for (const s of schedules) {
        if (s.phase === "PartiallyFailed") {
            // Velero ends a backup PartiallyFailed when an item's backup errored; such an item (a claim whose
            // snapshot class could not be resolved, a Secret, anything) may be missing from it altogether, which
            // no per-claim record shows. Always a loss, so always reported.
            problems.push(
                `Schedule ${s.schedule}: its newest backup ${s.backup} ended PartiallyFailed: some items were not backed up.` +
                    ` Read: velero backup describe ${s.backup} --details -n ${args.veleroNamespace}; velero backup logs ${s.backup} -n ${args.veleroNamespace} | grep level=error`,
            );
        }
        if (s.newerFailed.length > 0) {
            problems.push(
                `Schedule ${s.schedule}: ${s.newerFailed.map((b) => `${b.name} ended ${b.phase}`).join(", ")}` +
                    (s.backup === undefined
                        ? ", and no backup of it holds data."
                        : `; the newest backup that holds data is ${s.backup}.`) +
                    ` Read: velero backup describe ${s.newerFailed[0].name} --details -n ${args.veleroNamespace}`,
            );
        }
    }
    const record = {
        checkedAt: api.now().toISOString(),
        checkedWith,
        passed: problems.length === 0,
        schedules,
        claimsWithoutData: without,
        ...(problems.length > 0 ? { failure: problems.join(" ") } : {}),
    };
    await writeRecord(api, args.veleroNamespace, args.resultConfigMap, record);
    if (problems.length > 0) {
        throw new TaskFailure(problems.join(" "));
    }
    return record;
}

module.exports = { MARKER_LABEL, backupCheck, markerName, missingData };
