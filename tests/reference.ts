/**
 * The upstream reference files some tests check against: the pinned charts' `values.yaml`, `values.schema.json`
 * and `Chart.yaml`, and the Velero and Argo CD CRDs. They live beside the repository, never in it: in
 * `../shared/reference` where this project is developed, or in any directory `GITOPS_DR_REFERENCE_DIR` names
 * (`npm run reference -- <dir>` makes one from the pinned charts; it needs helm and the network).
 *
 * A fresh clone has neither: the tests that need them skip with one line naming the missing file and how to
 * provide it. Where they are required (`GITOPS_DR_REQUIRE_REFERENCE=1`: `.ci/run`, the GitHub workflow) a
 * missing file fails the tests instead.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The directory the reference files are read from. */
export const REFERENCE_DIR =
    process.env.GITOPS_DR_REFERENCE_DIR !== undefined && process.env.GITOPS_DR_REFERENCE_DIR !== ""
        ? path.resolve(process.env.GITOPS_DR_REFERENCE_DIR)
        : path.resolve(__dirname, "..", "..", "shared", "reference");

/** Whether a missing reference file fails the tests rather than skipping them. */
export const REFERENCE_REQUIRED = process.env.GITOPS_DR_REQUIRE_REFERENCE === "1";

/** How to provide the reference files, for the skip line and the failure. */
export const HOW_TO_PROVIDE =
    "provide it with `npm run reference -- <dir>` (needs the network) and GITOPS_DR_REFERENCE_DIR=<dir>, " +
    "or a ../shared/reference beside the clone";

/** The path of a reference file (`argo-cd-chart-10.1.1`, `values.yaml`). */
export function referencePath(...parts: string[]): string {
    return path.join(REFERENCE_DIR, ...parts);
}

/** The first of `files` (each a path inside the reference directory) that is missing. */
export function missingReference(files: readonly (readonly string[])[]): string | undefined {
    return files.map((parts) => referencePath(...parts)).find((file) => !fs.existsSync(file));
}

/** The one line a skip prints, and the message a required-but-missing reference fails with. */
export function referenceMessage(what: string, missing: string): string {
    return `${what}: ${missing} is missing; ${HOW_TO_PROVIDE}`;
}

const announced = new Set<string>();

/**
 * For a `before` hook or a test: returns when every file is there. Otherwise prints one line (once per `what`) and
 * skips the suite, or, where the reference is required, throws.
 */
export function needReference(ctx: Mocha.Context, what: string, files: readonly (readonly string[])[]): void {
    const missing = missingReference(files);
    if (missing === undefined) {
        return;
    }
    const message = referenceMessage(what, missing);
    if (REFERENCE_REQUIRED) {
        throw new Error(`GITOPS_DR_REQUIRE_REFERENCE=1: ${message}`);
    }
    if (!announced.has(what)) {
        announced.add(what);
        console.log(`      skipped ${message}`);
    }
    ctx.skip();
}

/** A reference file's text; call after {@link needReference} for it. */
export function readReference(...parts: string[]): string {
    return fs.readFileSync(referencePath(...parts), "utf8");
}
