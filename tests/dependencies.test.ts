import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

describe("dependencies", () => {
    it("@pulumi/kubernetesx shares the project's single @pulumi/kubernetes 4.x (package.json overrides)", () => {
        const ours = require.resolve("@pulumi/kubernetes/package.json", { paths: [ROOT] });
        const kx = path.dirname(require.resolve("@pulumi/kubernetesx/package.json", { paths: [ROOT] }));
        const theirs = require.resolve("@pulumi/kubernetes/package.json", { paths: [kx] });
        assert.equal(theirs, ours);
        const version = (JSON.parse(fs.readFileSync(ours, "utf8")) as { version: string }).version;
        assert.match(version, /^4\./);
        // No nested copy anywhere in the lock file.
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
            packages: Record<string, { version?: string }>;
        };
        const copies = Object.keys(lock.packages).filter((p) => p.endsWith("node_modules/@pulumi/kubernetes"));
        assert.deepEqual(copies, ["node_modules/@pulumi/kubernetes"]);
    });

    it("pins every dependency to an exact version", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as Record<
            string,
            Record<string, string>
        >;
        for (const [name, range] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
            assert.match(range, /^\d+\.\d+\.\d+$/, name);
        }
    });
});

describe("pinned versions", () => {
    it("every pin names its upstream source in components/versions.ts", () => {
        const text = fs.readFileSync(path.join(ROOT, "components", "versions.ts"), "utf8");
        // The plugin tag could not be confirmed from Velero's docs alone (they cite v1.14.0): its source is named.
        assert.match(
            text,
            /v1\.14\.2 is the newest tag of that line \(velero-io\/velero-plugin-for-aws, tagged 2026-06-16/,
        );
        assert.match(text, /registry\.k8s\.io\/kubectl\s+\* since 1\.28 \(kubernetes PR #116672\)/);
    });
});
