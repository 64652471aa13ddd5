// Original file: ../../protos/emoflux/image/v1/image.proto


/**
 * Request for ImageService.ListVariants. No fields.
 */
export interface ListVariantsRequest {
}

/**
 * Request for ImageService.ListVariants. No fields.
 */
export interface ListVariantsRequest__Output {
}
