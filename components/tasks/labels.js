// @ts-check
/** Labels and annotations the tasks and the program share (one prefix: components/names.ts `KEY_PREFIX`). */
"use strict";

/** The label a drill puts on claims whose volume it did not restore (components/restore/modifiers.ts). */
const QUARANTINED_LABEL = "gitops-dr.io/quarantined";
/** The label of a pod a restore brings back only as a vessel for file-system backup data (components/restore/vessels.ts). */
const VESSEL_LABEL = "gitops-dr.io/vessel";
/** The annotation a task writes its result to, on its own Job (runner.js). */
const RESULT_ANNOTATION = "gitops-dr.io/result";

module.exports = { QUARANTINED_LABEL, RESULT_ANNOTATION, VESSEL_LABEL };
