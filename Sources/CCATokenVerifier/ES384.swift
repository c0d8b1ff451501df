// ES384 (ECDSA P-384 with SHA-384, COSE's r || s signature form) and SHA-2, through
// OpenSSL 3's libcrypto: the verifier must not depend on the RMM's own crypto code.
import CLibcrypto
import RMMABI

/// A P-384 public key given by its affine coordinates (as a COSE_Key carries it).
public struct ES384PublicKey: Equatable, Sendable {
  public let x: [UInt8]
  public let y: [UInt8]

  /// Accepts only a point on the curve (OpenSSL checks it on import, and again here).
  public init(x: [UInt8], y: [UInt8]) throws(ES384Error) {
    guard x.count == COSE.p384CoordinateSize, y.count == COSE.p384CoordinateSize else {
      throw .invalidPublicKey("coordinates are not \(COSE.p384CoordinateSize) bytes each")
    }
    self.x = x
    self.y = y
    guard let key = makeKey() else { throw .invalidPublicKey("not a point on P-384") }
    EVP_PKEY_free(key)
  }

  /// Verifies `signature` (r || s, 48 bytes each) over `message`, hashed with SHA-384.
  public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
    guard signature.count == COSE.es384SignatureSize, let der = derSignature(signature) else { return false }
    guard let key = makeKey() else { return false }
    defer { EVP_PKEY_free(key) }
    guard let context = EVP_MD_CTX_new() else { return false }
    defer { EVP_MD_CTX_free(context) }
    guard EVP_DigestVerifyInit(context, nil, EVP_sha384(), nil, key) == 1 else { return false }
    return EVP_DigestVerify(context, der, der.count, message, message.count) == 1
  }

  /// An EVP_PKEY for the point, or nil if it is not a valid public key.
  fileprivate func makeKey(privateScalar: [UInt8]? = nil) -> OpaquePointer? {
    let point = [0x04] + x + y  // SEC1 uncompressed form
    // The builder keeps pointers to the values until OSSL_PARAM_BLD_to_param: keep them alive.
    return point.withUnsafeBufferPointer { pointBuffer in
      "P-384".withCString { curveName in
        makeKey(point: pointBuffer, curveName: curveName, privateScalar: privateScalar)
      }
    }
  }

  private func makeKey(point: UnsafeBufferPointer<UInt8>, curveName: UnsafePointer<CChar>, privateScalar: [UInt8]?)
    -> OpaquePointer?
  {
    guard let builder = OSSL_PARAM_BLD_new() else { return nil }
    defer { OSSL_PARAM_BLD_free(builder) }
    var scalar: OpaquePointer? = nil
    defer { BN_clear_free(scalar) }
    guard OSSL_PARAM_BLD_push_utf8_string(builder, clibcrypto_param_group_name(), curveName, 0) == 1,
          OSSL_PARAM_BLD_push_octet_string(builder, clibcrypto_param_public_key(), point.baseAddress, point.count) == 1
    else { return nil }
    if let privateScalar {
      scalar = BN_bin2bn(privateScalar, Int32(privateScalar.count), nil)
      guard scalar != nil, OSSL_PARAM_BLD_push_BN(builder, clibcrypto_param_private_key(), scalar) == 1 else { return nil }
    }
    guard let params = OSSL_PARAM_BLD_to_param(builder) else { return nil }
    defer { OSSL_PARAM_free(params) }
    guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { return nil }
    defer { EVP_PKEY_CTX_free(context) }
    var key: OpaquePointer? = nil
    let selection = privateScalar == nil ? clibcrypto_select_public_key() : clibcrypto_select_key_pair()
    guard EVP_PKEY_fromdata_init(context) == 1,
          EVP_PKEY_fromdata(context, &key, selection, params) == 1, let key
    else { return nil }
    // Import checks the point is on the curve; the explicit check also covers the
    // private scalar matching the point.
    guard let checkContext = EVP_PKEY_CTX_new_from_pkey(nil, key, nil) else { EVP_PKEY_free(key); return nil }
    defer { EVP_PKEY_CTX_free(checkContext) }
    let valid = privateScalar == nil ? EVP_PKEY_public_check(checkContext) : EVP_PKEY_pairwise_check(checkContext)
    guard valid == 1 else { EVP_PKEY_free(key); return nil }
    return key
  }
}

/// A P-384 private key: for building tokens in the tests and `cca-token sample`.
public final class ES384PrivateKey {
  private let key: OpaquePointer
  public let publicKey: ES384PublicKey

  /// A fresh random key.
  public init() throws(ES384Error) {
    guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw .openSSL("EVP_PKEY_CTX_new_from_name") }
    defer { EVP_PKEY_CTX_free(context) }
    var generated: OpaquePointer? = nil
    guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-384") == 1,
          EVP_PKEY_generate(context, &generated) == 1, let generated
    else { throw .openSSL("EVP_PKEY_generate") }
    guard let x = coordinate(generated, "qx"), let y = coordinate(generated, "qy") else {
      EVP_PKEY_free(generated)
      throw .openSSL("EVP_PKEY_get_bn_param")
    }
    key = generated
    publicKey = try ES384PublicKey(x: x, y: y)
  }

  /// A known key (the scalar and its public point; they must match).
  public init(scalar: [UInt8], x: [UInt8], y: [UInt8]) throws(ES384Error) {
    let publicKey = try ES384PublicKey(x: x, y: y)
    guard scalar.count == COSE.p384CoordinateSize, let key = publicKey.makeKey(privateScalar: scalar) else {
      throw .invalidPrivateKey
    }
    self.key = key
    self.publicKey = publicKey
  }

  deinit { EVP_PKEY_free(key) }

  /// Signs `message` (hashed with SHA-384); returns r || s, 48 bytes each.
  public func sign(_ message: [UInt8]) throws(ES384Error) -> [UInt8] {
    guard let context = EVP_MD_CTX_new() else { throw .openSSL("EVP_MD_CTX_new") }
    defer { EVP_MD_CTX_free(context) }
    var length = 0
    guard EVP_DigestSignInit(context, nil, EVP_sha384(), nil, key) == 1,
          EVP_DigestSign(context, nil, &length, message, message.count) == 1
    else { throw .openSSL("EVP_DigestSignInit") }
    var der = [UInt8](repeating: 0, count: length)
    guard EVP_DigestSign(context, &der, &length, message, message.count) == 1 else { throw .openSSL("EVP_DigestSign") }
    guard let rawSignature = rawSignature(Array(der.prefix(length))) else { throw .openSSL("d2i_ECDSA_SIG") }
    return rawSignature
  }

  /// Signs a SHA-384 digest computed elsewhere (the RMM hands its signer only the digest
  /// of the Sig_structure); returns r || s.
  public func signDigest(_ digest: [UInt8]) throws(ES384Error) -> [UInt8] {
    guard let context = EVP_PKEY_CTX_new(key, nil) else { throw .openSSL("EVP_PKEY_CTX_new") }
    defer { EVP_PKEY_CTX_free(context) }
    var length = 0
    guard EVP_PKEY_sign_init(context) == 1, EVP_PKEY_sign(context, nil, &length, digest, digest.count) == 1
    else { throw .openSSL("EVP_PKEY_sign_init") }
    var der = [UInt8](repeating: 0, count: length)
    guard EVP_PKEY_sign(context, &der, &length, digest, digest.count) == 1 else { throw .openSSL("EVP_PKEY_sign") }
    guard let rawSignature = rawSignature(Array(der.prefix(length))) else { throw .openSSL("d2i_ECDSA_SIG") }
    return rawSignature
  }
}

public enum ES384Error: Error, Equatable, Sendable, CustomStringConvertible {
  case invalidPublicKey(String)
  case invalidPrivateKey
  case openSSL(String)

  public var description: String {
    switch self {
    case .invalidPublicKey(let why): return "invalid P-384 public key: \(why)"
    case .invalidPrivateKey: return "invalid P-384 private key (or it does not match the public key)"
    case .openSSL(let call): return "OpenSSL failure in \(call)"
    }
  }
}

/// SHA-2 digests (the measurement and key-hash algorithms of the token).
public enum SHA2 {
  public static func sha256(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha256(), size: 32) }
  public static func sha384(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha384(), size: 48) }
  public static func sha512(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha512(), size: 64) }

  private static func digest(_ data: [UInt8], _ algorithm: OpaquePointer?, size: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: size)
    var written: UInt32 = 0
    // Only fails on allocation failure, which is not a verification result.
    precondition(EVP_Digest(data, data.count, &out, &written, algorithm, nil) == 1 && Int(written) == size)
    return out
  }
}

// MARK: - r || s <-> DER ECDSA-Sig-Value

private func derSignature(_ raw: [UInt8]) -> [UInt8]? {
  let half = COSE.p384CoordinateSize
  guard let signature = ECDSA_SIG_new() else { return nil }
  defer { ECDSA_SIG_free(signature) }
  let r = BN_bin2bn(raw, Int32(half), nil)
  let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + half, Int32(half), nil) }
  guard let r, let s else { BN_free(r); BN_free(s); return nil }
  guard ECDSA_SIG_set0(signature, r, s) == 1 else { BN_free(r); BN_free(s); return nil }  // owns r, s now
  let length = i2d_ECDSA_SIG(signature, nil)
  guard length > 0 else { return nil }
  var der = [UInt8](repeating: 0, count: Int(length))
  let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
    var cursor = buffer.baseAddress
    return i2d_ECDSA_SIG(signature, &cursor)
  }
  return written == length ? der : nil
}

private func rawSignature(_ der: [UInt8]) -> [UInt8]? {
  let half = COSE.p384CoordinateSize
  let signature = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
    var cursor = buffer.baseAddress
    return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
  }
  guard let signature else { return nil }
  defer { ECDSA_SIG_free(signature) }
  var raw = [UInt8](repeating: 0, count: 2 * half)
  let ok = raw.withUnsafeMutableBufferPointer { buffer in
    BN_bn2binpad(ECDSA_SIG_get0_r(signature), buffer.baseAddress, Int32(half)) == half
      && BN_bn2binpad(ECDSA_SIG_get0_s(signature), buffer.baseAddress! + half, Int32(half)) == half
  }
  return ok ? raw : nil
}

private func coordinate(_ key: OpaquePointer, _ name: String) -> [UInt8]? {
  var number: OpaquePointer? = nil
  guard EVP_PKEY_get_bn_param(key, name, &number) == 1, let number else { return nil }
  defer { BN_free(number) }
  var out = [UInt8](repeating: 0, count: COSE.p384CoordinateSize)
  return BN_bn2binpad(number, &out, Int32(out.count)) == out.count ? out : nil
}
