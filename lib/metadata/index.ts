export * from './types';
export { buildMetadataPlan, resolveBuildOptions, MetadataPlanError, DEFAULT_BUILD_OPTIONS } from './plan';
export type { BuildOptions, BuildOptionsInput } from './plan';
export { tagsToRead, diffAgainstFile, assertMetadataPlan } from './diff';
export type { MetadataDiff, TargetKind } from './diff';
export { READ_ARGS, READ_OPTIONS, readRequest, readValue } from './readOptions';
export { MODULE_TAGS } from './moduleTags';
export type { ModuleTagInfo } from './moduleTags';
export * as faceGeometry from './faceGeometry';
