/**
 * Helm's output: a release rendered with `helm template`, Helm's multi-document output parsed into objects, and
 * how the checks name and find an object among them.
 */
import { parseAllDocuments } from "yaml";

import { ResolvedChart, helmTemplate } from "./helm";
import { KubeObject, ReleaseRecord } from "./records";
import { isRecord } from "./values";

/** One release, rendered. */
export interface ReleaseRender {
    readonly release: ReleaseRecord;
    readonly chart: ResolvedChart;
    /** Helm's output, as Helm printed it. */
    readonly manifests: string;
    readonly objects: readonly KubeObject[];
}

/** Renders one release with the resolved chart. */
export function renderRelease(release: ReleaseRecord, chart: ResolvedChart): ReleaseRender {
    const manifests = helmTemplate({
        releaseName: release.releaseName,
        chartPath: chart.path,
        namespace: release.namespace,
        values: release.values,
        includeCrds: true,
    });
    return { release, chart, manifests, objects: parseManifests(manifests, `release ${release.releaseName}`) };
}

/** Parses Helm's multi-document output; empty documents are dropped. */
export function parseManifests(text: string, origin = "manifest"): KubeObject[] {
    const objects: KubeObject[] = [];
    for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length > 0) {
            throw new Error(`${origin}: YAML error ${doc.errors[0].message}`);
        }
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) {
            continue;
        }
        if (!isRecord(value) || typeof value.apiVersion !== "string" || typeof value.kind !== "string") {
            throw new Error(`${origin}: a document is not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
        }
        objects.push(value as KubeObject);
    }
    return objects;
}

/** `Kind/namespace/name`, or `Kind/name` for an object without a namespace: how check results name objects. */
export function objectName(o: KubeObject): string {
    return `${o.kind}/${o.metadata?.namespace === undefined ? "" : `${o.metadata.namespace}/`}${o.metadata?.name ?? "(unnamed)"}`;
}

/** The first object of a kind with a name. */
export function findObject(
    objects: readonly KubeObject[],
    kind: string,
    name: string | undefined,
): KubeObject | undefined {
    return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}
