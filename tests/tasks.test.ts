/**
 * The in-cluster tasks' own machinery (components/tasks), tested directly: reading Velero's backup archive as Go's
 * archive/tar writes it, and the runner's contract with its Job.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { TASK_SCRIPTS } from "../components/tasks";

import { ClusterStore } from "../engine/cluster";
import { tarOf } from "../engine/cluster/velero";

/* eslint-disable @typescript-eslint/no-require-imports -- the tasks are CommonJS scripts */
const kube = require("../components/tasks/kube.js") as {
    untar(tar: Buffer): Map<string, Buffer>;
    backupObjects(files: Map<string, Buffer>, resource: string): Map<string, Record<string, unknown>>;
};
const runner = require("../components/tasks/runner.js") as {
    run(
        api: unknown,
        task: string,
        env: Record<string, string>,
        log: (m: string) => void,
        out: (m: string) => void,
    ): Promise<number>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** One tar entry: a 512-byte header, then the body padded to 512. */
function entry(name: string, body: Buffer, type: string): Buffer {
    const header = Buffer.alloc(512);
    header.write(name.slice(0, 100), 0, 100, "utf8");
    header.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
    header.write(type, 156);
    header.write("ustar\0", 257);
    return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

describe("the backup archive reader (components/tasks/kube.js untar)", () => {
    it("reads ustar entries and both copies Velero writes, once each", () => {
        const claim = {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: "data", namespace: "shop" },
        };
        const files = kube.untar(tarOf([claim]));
        assert.deepEqual([...kube.backupObjects(files, "persistentvolumeclaims").keys()], ["shop/data"]);
    });

    it("reads a PAX long name (Go writes one for a name over 100 bytes), so no claim is dropped", () => {
        const long = `resources/persistentvolumeclaims/namespaces/shop/${"x".repeat(120)}.json`;
        const record = `path=${long}\n`;
        // "<length> <record>": the length counts itself.
        let length = record.length + 3;
        length = `${length} ${record}`.length;
        const pax = Buffer.from(`${length} ${record}`);
        const body = Buffer.from(
            JSON.stringify({ kind: "PersistentVolumeClaim", metadata: { name: "x".repeat(120) } }),
        );
        const tar = Buffer.concat([
            entry("PaxHeaders/x", pax, "x"),
            entry(long.slice(0, 99), body, "0"),
            Buffer.alloc(1024),
        ]);
        const files = kube.untar(tar);
        assert.deepEqual([...files.keys()], [long]);
        assert.deepEqual([...kube.backupObjects(files, "persistentvolumeclaims").keys()], [`shop/${"x".repeat(120)}`]);
    });

    it("refuses an entry kind it does not know, rather than dropping it", () => {
        const tar = Buffer.concat([entry("odd", Buffer.from("x"), "S"), Buffer.alloc(1024)]);
        assert.throws(() => kube.untar(tar), /has type "S", which this reader does not know/);
    });
});

describe("the task runner (components/tasks/runner.js)", () => {
    it("an unknown task fails with the termination message, exit 1", async () => {
        let message = "";
        const code = await runner.run(
            new ClusterStore(0),
            "nope",
            {},
            (m) => (message = m),
            () => undefined,
        );
        assert.equal(code, 1);
        assert.match(message, /unknown task "nope"; known: pre-restore, post-restore/);
    });

    it("a task's unexpected error is shown with its stack, cut to what the kubelet keeps (4 KiB)", async () => {
        let message = "";
        const code = await runner.run(
            new ClusterStore(0),
            "pre-restore",
            { TASK_ARGS: "{not json" },
            (m) => (message = m),
            () => undefined,
        );
        assert.equal(code, 1);
        assert.match(message, /^pre-restore failed: SyntaxError/);
        assert.ok(message.length <= 4000);
    });
});

describe("the scripts a task Job mounts (components/tasks/index.ts TASK_SCRIPTS)", () => {
    it("hold every script the runner requires, directly or not: a missing one fails every task at start", () => {
        const dir = path.join(__dirname, "..", "components", "tasks");
        const mounted = new Set<string>(TASK_SCRIPTS);
        const seen = new Set<string>();
        const visit = (file: string) => {
            if (seen.has(file)) {
                return;
            }
            seen.add(file);
            assert.ok(mounted.has(file), `${file} is required but not in TASK_SCRIPTS`);
            const source = fs.readFileSync(path.join(dir, file), "utf8");
            for (const m of source.matchAll(/require\("\.\/([^"]+)"\)/g)) {
                visit(m[1].endsWith(".js") ? m[1] : `${m[1]}.js`);
            }
        };
        visit("runner.js");
        assert.ok(seen.has("verify.js") && seen.has("backup-check.js"), "the runner reaches every task");
        const scripts = fs.readdirSync(dir).filter((f) => f.endsWith(".js"));
        assert.deepEqual([...mounted].sort(), scripts.sort(), "every script of the folder is mounted, and only those");
    });
});
