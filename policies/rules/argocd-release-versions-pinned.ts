import type { ResourceValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { propsOf } from "../lib/policy";
import { T } from "../lib/types";
import { chartName, valuesOf } from "../lib/velero";
import { Json, isObject, show, str } from "../lib/values";
import { EXACT_VERSION, pinnedImage } from "./velero-release-versions-pinned";

/** A well-formed image digest: `sha256:` and 64 lowercase hex digits. */
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Every `image` of a values tree: `{ repository, tag, digest }` objects and `image: "<ref>"` strings, with paths. */
function imagesOf(value: unknown, path: string, out: { path: string; image: unknown }[]): void {
    if (Array.isArray(value)) {
        value.forEach((v, i) => imagesOf(v, `${path}[${i}]`, out));
        return;
    }
    if (!isObject(value)) {
        return;
    }
    for (const [key, child] of Object.entries(value)) {
        const at = path === "" ? key : `${path}.${key}`;
        if (key === "image" && (typeof child === "string" || isObject(child))) {
            out.push({ path: at, image: child });
        }
        imagesOf(child, at, out);
    }
}

/** Why an image setting is not pinned, or undefined. */
function unpinned(image: unknown): string | undefined {
    if (typeof image === "string") {
        const digest = /@(.*)$/.exec(image)?.[1];
        if (digest !== undefined && !DIGEST.test(digest)) {
            return `${show(image)} has the malformed digest ${show(digest)}`;
        }
        return pinnedImage(image) ? undefined : `${show(image)} is neither an exact version tag nor a sha256 digest`;
    }
    const o = image as Json;
    const digest = str(o.digest);
    if (digest !== undefined && digest !== "") {
        return DIGEST.test(digest) ? undefined : `has the malformed digest ${show(digest)}`;
    }
    // An unset tag renders the chart's own default, which the exact chart version pins.
    if (o.tag === undefined || o.tag === null || o.tag === "") {
        return undefined;
    }
    return typeof o.tag === "string" && EXACT_VERSION.test(o.tag) ? undefined : `has tag ${show(o.tag)}`;
}

/**
 * Pinning beyond Velero: Argo CD's chart and every other Helm release's chart version is exact, and every image
 * their values set (Argo CD, Dex, Redis, Velero's kubectl, ...) is an exact tag or a well-formed digest; every
 * Job's containers likewise. Named for Argo CD, the release it was written for, it judges them all.
 * velero-release-versions-pinned judges Velero's own image and plugins with Velero-specific advice.
 */
export const argocdReleaseVersionsPinned: ResourceValidationPolicy = {
    name: "argocd-release-versions-pinned",
    description:
        "Checks that every Helm release's chart version is exact and that every image its values set, and every Job's container image, is an exact version tag or a well-formed sha256 digest.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const must =
            "Every chart and image the stack deploys must be pinned to an exact version or digest, so that only a reviewed change can change what runs.";
        const props = propsOf(args);
        const found: { path: string; image: unknown }[] = [];
        if (args.type === T.helmRelease) {
            const version = str(props.version);
            if (chartName({ props }) !== "velero" && (version === undefined || !EXACT_VERSION.test(version))) {
                report(
                    violation(
                        must,
                        `${label(args)} has chart version ${show(version)}`,
                        "Set the release's version to an exact chart version (components/versions.ts).",
                    ),
                );
            }
            imagesOf(valuesOf({ props }), "values", found);
        } else if (args.type === T.job) {
            imagesOf(props.spec, "spec", found);
        } else {
            return;
        }
        for (const { path, image } of found) {
            // velero-release-versions-pinned reports Velero's image tag and plugins.
            if (
                chartName({ props }) === "velero" &&
                (path === "values.image" || path.startsWith("values.initContainers"))
            ) {
                continue;
            }
            const why = unpinned(image);
            if (why !== undefined) {
                report(
                    violation(
                        must,
                        `${label(args)} ${path} ${why}`,
                        "Pin it to an exact tag or a sha256 digest (components/versions.ts holds every pinned image).",
                    ),
                );
            }
        }
    },
};
