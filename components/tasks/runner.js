// @ts-check
/**
 * Entry point of the in-cluster tasks: `node runner.js <task>`, with the task's arguments as JSON in TASK_ARGS.
 * On success the task's result goes to its own Job's `gitops-dr.io/result` annotation (JOB_NAMESPACE, JOB_NAME),
 * where Pulumi reads it with the Job's outputs. On failure the message goes to the termination log, which the
 * Job's await in `pulumi up` prints (pulumi-kubernetes `await/checker/pod/check.go` `containerTerminatedError`),
 * and the process exits 1 so that the Job fails (backoffLimit 0).
 */
"use strict";

const fs = require("node:fs");

const { backupCheck } = require("./backup-check");
const { inClusterApi } = require("./kube");
const { isolate } = require("./isolate");
const { RESULT_ANNOTATION } = require("./labels");
const { postRestore } = require("./post-restore");
const { TaskFailure, preRestore } = require("./pre-restore");
const { storagePreflight } = require("./storage-preflight");
const { verify } = require("./verify");

/**
 * @type {Record<string, (api: import("./kube").KubeApi, args: any) => Promise<unknown>>}
 */
const TASKS = {
    "pre-restore": preRestore,
    "post-restore": postRestore,
    isolate,
    verify,
    "backup-check": backupCheck,
    "storage-preflight": storagePreflight,
};

/**
 * Runs a task and records its result on its Job. Returns the process exit code.
 * @param {import("./kube").KubeApi} api
 * @param {string} task
 * @param {Record<string, string | undefined>} env
 * @param {(message: string) => void} terminationLog
 * @param {(message: string) => void} [log] The container's log. Defaults to stdout.
 * @returns {Promise<number>}
 */
async function run(api, task, env, terminationLog, log = (m) => console.log(m)) {
    const fn = TASKS[task];
    try {
        if (fn === undefined) {
            throw new TaskFailure(`unknown task "${task}"; known: ${Object.keys(TASKS).join(", ")}`);
        }
        const result = await fn(api, JSON.parse(env.TASK_ARGS ?? "{}"));
        await api.mergePatch(`/apis/batch/v1/namespaces/${env.JOB_NAMESPACE}/jobs/${env.JOB_NAME}`, {
            metadata: { annotations: { [RESULT_ANNOTATION]: JSON.stringify(result) } },
        });
        log(JSON.stringify(result, null, 2));
        return 0;
    } catch (e) {
        // A task's own failures say what to do; anything else is a bug or the API refusing, shown as it is.
        const message =
            e instanceof TaskFailure ? e.message : `${task} failed: ${e instanceof Error ? e.stack : String(e)}`;
        log(message);
        // The kubelet keeps at most 4096 bytes of a termination message.
        terminationLog(message.slice(0, 4000));
        return 1;
    }
}

if (require.main === module) {
    run(inClusterApi(), process.argv[2] ?? "", process.env, (m) => fs.writeFileSync("/dev/termination-log", m)).then(
        (code) => process.exit(code),
        (e) => {
            console.error(e);
            process.exit(2);
        },
    );
}

module.exports = { TASKS, run };
