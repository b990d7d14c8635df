export { startSimulator, apiVersionFromEnv, DEFAULT_API_KEY, type Simulator, type SimulatorOptions, type Violation, type RecordedRequest } from './server';
export type { FaultSpec, FaultKind, InjectedFault } from './faults';
export { SimLibrary, uuidFrom, type SimAsset, type SimFace, type SimPerson, type SimAlbum, type SimTag, type SimExif } from './library';
export { createSampleLibrary, SAMPLE_PEOPLE, IMMICH_LIBRARY_ROOT, type SampleLibrary, type SampleEntry } from './sample-library';
export { createSyntheticLibrary, syntheticAssetId, type SyntheticLibrary, type SyntheticOptions } from './synthetic-library';
export { sharedDir, samplesDir, openApiPath, repoRoot } from './paths';
export { parseSearchBehaviour, searchBehaviourFromEnv, type SearchBehaviour, type SearchBehaviourJson, type SearchPageInfo, type TieOrder } from './search-behaviour';
export type { ApiVersion } from './spec';
