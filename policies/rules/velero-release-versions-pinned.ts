import type { ResourceValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { propsOf } from "../lib/policy";
import { T } from "../lib/types";
import { chartName, valuesOf } from "../lib/velero";
import { arr, at, obj, show, str } from "../lib/values";

/** An exact version: `12.1.0`, `v1.18.1`, `1.2.3-rc.1`; no ranges, no `latest`. */
export const EXACT_VERSION = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

/** Whether an image reference is pinned: by digest, or by an exact version tag. */
export function pinnedImage(image: string): boolean {
    if (/@sha256:[a-f0-9]{64}$/.test(image)) {
        return true;
    }
    const lastSlash = image.lastIndexOf("/");
    const colon = image.indexOf(":", lastSlash + 1);
    return colon > 0 && EXACT_VERSION.test(image.substring(colon + 1));
}

/** The velero chart version, the Velero image and the plugin images pinned exactly. */
export const veleroReleaseVersionsPinned: ResourceValidationPolicy = {
    name: "velero-release-versions-pinned",
    description:
        "Checks that the velero chart, the Velero image and its plugin images are pinned to exact versions, with no ranges and no latest.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== T.helmRelease) {
            return;
        }
        const props = propsOf(args);
        if (chartName({ props }) !== "velero") {
            return;
        }
        const must =
            "Velero's chart, image and plugins must be pinned to exact versions, so that only a reviewed change can change them.";
        const version = str(props.version);
        if (version === undefined || !EXACT_VERSION.test(version)) {
            report(
                violation(
                    must,
                    version === undefined
                        ? `${label(args)} sets no chart version`
                        : `${label(args)} has chart version ${show(version)}`,
                    'Set the release\'s version to an exact chart version such as "12.1.0" (components/versions.ts VELERO_CHART).',
                ),
            );
        }
        const values = valuesOf({ props });
        const tag = at(values, "image", "tag");
        const digest = str(at(values, "image", "digest"));
        // An unset tag renders the chart's appVersion, which the exact chart version already pins.
        if (
            tag !== undefined &&
            (digest === undefined || digest === "") &&
            !(typeof tag === "string" && EXACT_VERSION.test(tag))
        ) {
            report(
                violation(
                    must,
                    `${label(args)} values image.tag is ${show(tag)}`,
                    'Set image.tag to an exact release tag such as "v1.18.1" (components/versions.ts VELERO_IMAGE), or image.digest.',
                ),
            );
        }
        (arr(values.initContainers) ?? []).forEach((container, i) => {
            const image = str(obj(container)?.image);
            if (image === undefined || !pinnedImage(image)) {
                report(
                    violation(
                        must,
                        `${label(args)} values initContainers[${i}].image is ${show(image)}`,
                        'Pin the plugin image to an exact tag (gitops-dr:awsPluginVersion, e.g. "v1.14.2") or a sha256 digest.',
                    ),
                );
            }
        });
    },
};
