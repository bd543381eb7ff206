/**
 * `npm run reference -- <dir>`: the upstream reference files some tests check against (tests/reference.ts),
 * pulled from the charts pinned in components/versions.ts with `helm pull` (needs the network; helm as `npm run render` finds it), laid
 * out as the tests read them:
 *
 *   <dir>/velero-chart-<version>/   values.yaml, values.schema.json, Chart.yaml
 *   <dir>/velero-<minor>-crds/      the chart's crds/*.yaml (Backup, Restore, Schedule, ...)
 *   <dir>/argo-cd-chart-<version>/  values.yaml, Chart.yaml
 *   <dir>/argo-cd-crds/             application.yaml, applicationset.yaml, appproject.yaml: the chart's CRD
 *                                   templates with their Helm template lines removed
 *
 * Then `GITOPS_DR_REFERENCE_DIR=<dir> npm test` runs those tests instead of skipping them; the GitHub workflow
 * does this with GITOPS_DR_REQUIRE_REFERENCE=1, so a fork's CI checks the same as this project's.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parseAllDocuments } from "yaml";

import { ARGO_CD_CHART, VELERO_CHART, VELERO_IMAGE } from "../components/versions";
import { helmBinary } from "./render/helm";

/** `helm pull --untar` of a pinned chart into `into`; returns the chart's directory. */
function pull(chart: { repo: string; name: string; version: string }, into: string): string {
    const helm = helmBinary();
    const args = ["pull", chart.name, "--repo", chart.repo, "--version", chart.version, "--untar", "--untardir", into];
    process.stdout.write(`${helm} ${args.join(" ")}\n`);
    const result = spawnSync(helm, args, { stdio: "inherit" });
    if (result.error !== undefined || result.status !== 0) {
        throw new Error(
            `helm pull of ${chart.name} ${chart.version} failed (${result.error?.message ?? `exit ${String(result.status)}`})`,
        );
    }
    return path.join(into, chart.name);
}

function copy(from: string, toDir: string, name = path.basename(from)): void {
    fs.mkdirSync(toDir, { recursive: true });
    fs.copyFileSync(from, path.join(toDir, name));
}

/** A CRD template without its Helm template lines (`{{- if .Values.crds.install }}` and the like). */
export function untemplated(text: string): string {
    return text
        .split("\n")
        .filter((line) => !/^\s*\{\{.*\}\}\s*$/.test(line))
        .join("\n");
}

function main(argv: readonly string[]): number {
    if (argv.length !== 1 || argv[0].startsWith("-")) {
        process.stderr.write("usage: npm run reference -- <dir>\n");
        return 2;
    }
    const out = path.resolve(argv[0]);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-reference-"));
    try {
        const velero = pull(VELERO_CHART, work);
        const veleroDir = path.join(out, `velero-chart-${VELERO_CHART.version}`);
        for (const file of ["values.yaml", "values.schema.json", "Chart.yaml"]) {
            copy(path.join(velero, file), veleroDir);
        }
        const minor = /^v?(\d+\.\d+)\./.exec(VELERO_IMAGE.tag)?.[1] ?? VELERO_IMAGE.tag;
        const crds = path.join(velero, "crds");
        for (const file of fs.readdirSync(crds).filter((f) => f.endsWith(".yaml"))) {
            copy(path.join(crds, file), path.join(out, `velero-${minor}-crds`));
        }

        const argo = pull(ARGO_CD_CHART, work);
        const argoDir = path.join(out, `argo-cd-chart-${ARGO_CD_CHART.version}`);
        for (const file of ["values.yaml", "Chart.yaml"]) {
            copy(path.join(argo, file), argoDir);
        }
        const templates = path.join(argo, "templates", "crds");
        const wanted: Record<string, string> = {
            Application: "application.yaml",
            ApplicationSet: "applicationset.yaml",
            AppProject: "appproject.yaml",
        };
        const found = new Set<string>();
        for (const file of fs.readdirSync(templates).filter((f) => f.endsWith(".yaml"))) {
            const text = untemplated(fs.readFileSync(path.join(templates, file), "utf8"));
            const kind = parseAllDocuments(text)
                .map((d) => d.toJS() as { spec?: { names?: { kind?: string } } } | null)
                .find((d) => d?.spec?.names?.kind !== undefined)?.spec?.names?.kind;
            if (kind !== undefined && wanted[kind] !== undefined) {
                fs.mkdirSync(path.join(out, "argo-cd-crds"), { recursive: true });
                fs.writeFileSync(path.join(out, "argo-cd-crds", wanted[kind]), text);
                found.add(kind);
            }
        }
        const missing = Object.keys(wanted).filter((k) => !found.has(k));
        if (missing.length > 0) {
            throw new Error(`the argo-cd chart ${ARGO_CD_CHART.version} has no CRD template for ${missing.join(", ")}`);
        }
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
    process.stdout.write(`Reference files in ${out}: run the tests with GITOPS_DR_REFERENCE_DIR=${out}\n`);
    return 0;
}

if (require.main === module) {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`reference: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
    }
}
