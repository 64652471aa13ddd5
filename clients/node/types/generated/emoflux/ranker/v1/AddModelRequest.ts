// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.AddModel.
 */
export interface AddModelRequest {
  /**
   * Hugging Face hub id "owner/name", e.g. "dima806/facial_emotions_image_detection".
   */
  'hub_id'?: (string);
  /**
   * Catalog id for the new card; empty (default) derives it from the hub id's name.
   */
  'model_id'?: (string);
  /**
   * A model-info snapshot (the JSON of the hub's /api/models/<id>, with
   * "retrievedAt"); empty (default) asks the hub.
   */
  'model_info_json'?: (string);
}

/**
 * Request for RankerService.AddModel.
 */
export interface AddModelRequest__Output {
  /**
   * Hugging Face hub id "owner/name", e.g. "dima806/facial_emotions_image_detection".
   */
  'hub_id': (string);
  /**
   * Catalog id for the new card; empty (default) derives it from the hub id's name.
   */
  'model_id': (string);
  /**
   * A model-info snapshot (the JSON of the hub's /api/models/<id>, with
   * "retrievedAt"); empty (default) asks the hub.
   */
  'model_info_json': (string);
}
