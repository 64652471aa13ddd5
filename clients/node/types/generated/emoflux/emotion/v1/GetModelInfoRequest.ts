// Original file: ../../protos/emoflux/emotion/v1/emotion.proto


/**
 * Request for EmotionService.GetModelInfo. No fields: a server serves one model.
 */
export interface GetModelInfoRequest {
}

/**
 * Request for EmotionService.GetModelInfo. No fields: a server serves one model.
 */
export interface GetModelInfoRequest__Output {
}
