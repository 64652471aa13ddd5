// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.ListModels.
 */
export interface ListModelsRequest {
  /**
   * Only models with this artifact type, e.g. "text-to-image"; "" (default) lists
   * all.
   */
  'artifact_type'?: (string);
}

/**
 * Request for RankerService.ListModels.
 */
export interface ListModelsRequest__Output {
  /**
   * Only models with this artifact type, e.g. "text-to-image"; "" (default) lists
   * all.
   */
  'artifact_type': (string);
}
