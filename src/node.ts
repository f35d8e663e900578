/**
 * flowsampler for Node: everything of the core entry (src/index.ts) plus what needs Node's
 * file system or native modules: saved flows as files, CmdStan CSV files from disk, the HTML
 * report with its scripts inlined, PNG figures, atomic file writes. The package's `node`
 * condition resolves `import 'flowsampler'` here; browsers get the core entry.
 */
export * from './index.js';
export { saveFlow, loadFlow, readFlowMeta } from './io/flowFile.js';
export { readStanCsvChains, readStanCsvFiles, readStanCsvChainsStreaming } from './io/stanCsvFiles.js';
export { renderReportHtml, type ReportInput, type ReportSection, type ReportTargetInfo } from './report/html.js';
export { figureToSvg, figureToPng, exportFiguresPng, toVegaSpec } from './report/png.js';
export { writeFileAtomic, writeJsonAtomic, OutputError } from './core/atomicWrite.js';
export { fitDensityWithSelection, AUTO_DENSITY_CANDIDATES, type DensityCandidate, type DensitySelection, type DensitySelectionOptions, type CandidateReport } from './flows/train/densitySelection.js';
