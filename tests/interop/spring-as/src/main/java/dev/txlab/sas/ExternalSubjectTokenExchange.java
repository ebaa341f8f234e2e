// Token exchange (RFC 8693) for subject tokens another authorization server issued: what a
// Spring team adds when its Spring Authorization Server is the on-prem AS of a broker topology.
// SAS's own OAuth2TokenExchangeAuthenticationProvider exchanges only the tokens it issued itself
// (it finds the subject token in its OAuth2AuthorizationService); this provider accepts a JWT
// from one configured external issuer (--txlab.external-issuer, its EC P-256 public key in
// --txlab.external-key), verified by its signature, and issues SAS's own access token for it.
//
// It runs after SAS's provider (appended to the token endpoint's providers): a token SAS issued
// is found there and exchanged unchanged; only when SAS's provider refuses does ProviderManager
// try this one, which answers for its issuer's tokens only (null otherwise: SAS's refusal stands).
package dev.txlab.sas;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.proc.SingleKeyJWSKeySelector;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClaimAccessor;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2AccessToken;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2Token;
import org.springframework.security.oauth2.core.endpoint.OAuth2ParameterNames;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2AccessTokenAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenExchangeAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.context.AuthorizationServerContextHolder;
import org.springframework.security.oauth2.server.authorization.token.DefaultOAuth2TokenContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenGenerator;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

final class ExternalSubjectTokenExchange implements AuthenticationProvider {
  private static final String JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";
  private static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

  private final String externalIssuer;
  private final JwtDecoder decoder;
  private final OAuth2AuthorizationService authorizations;
  private final Supplier<OAuth2TokenGenerator<?>> tokens;

  // `tokens` yields SAS's own token generator, resolved when a request comes (the token
  // endpoint's, built by SAS once its configuration is complete).
  ExternalSubjectTokenExchange(String externalIssuer, Path publicKeyPem, String ownIssuer,
      OAuth2AuthorizationService authorizations, Supplier<OAuth2TokenGenerator<?>> tokens)
      throws Exception {
    this.externalIssuer = externalIssuer;
    this.decoder = decoder(readP256PublicKey(publicKeyPem), externalIssuer, ownIssuer);
    this.authorizations = authorizations;
    this.tokens = tokens;
  }

  @Override
  public boolean supports(Class<?> authentication) {
    return OAuth2TokenExchangeAuthenticationToken.class.isAssignableFrom(authentication);
  }

  @Override
  public Authentication authenticate(Authentication authentication) {
    OAuth2TokenExchangeAuthenticationToken request = (OAuth2TokenExchangeAuthenticationToken) authentication;
    if (!externalIssuer.equals(unverifiedIssuer(request.getSubjectToken()))) return null;
    if (!(request.getPrincipal() instanceof OAuth2ClientAuthenticationToken client)
        || !client.isAuthenticated() || client.getRegisteredClient() == null) {
      throw error(OAuth2ErrorCodes.INVALID_CLIENT, "the client is not authenticated");
    }
    RegisteredClient registered = client.getRegisteredClient();
    if (!registered.getAuthorizationGrantTypes().contains(AuthorizationGrantType.TOKEN_EXCHANGE)) {
      throw error(OAuth2ErrorCodes.UNAUTHORIZED_CLIENT, "the client may not use token exchange");
    }
    // RFC 8693 §2.1: subject_token_type names what the subject token is; an external JWT is
    // either (jwt is the precise one, §3). Delegation (actor_token) stays with SAS's own tokens.
    if (!Set.of(JWT_TYPE, ACCESS_TOKEN_TYPE).contains(request.getSubjectTokenType())) {
      throw error(OAuth2ErrorCodes.INVALID_REQUEST, "subject_token_type must be jwt or access_token");
    }
    if (request.getActorToken() != null) {
      throw error(OAuth2ErrorCodes.INVALID_REQUEST, "actor_token is not supported with an external subject token");
    }
    if (!Set.of(JWT_TYPE, ACCESS_TOKEN_TYPE).contains(request.getRequestedTokenType())) {
      throw error(OAuth2ErrorCodes.INVALID_REQUEST, "requested_token_type must be jwt or access_token");
    }
    Jwt subject;
    try {
      subject = decoder.decode(request.getSubjectToken());
    } catch (JwtException e) {
      // RFC 8693 §2.2.2: an invalid or unacceptable subject token is invalid_request (SAS's own
      // provider answers invalid_grant for a token it does not know; 400 either way).
      throw error(OAuth2ErrorCodes.INVALID_REQUEST, "the subject token is not valid: " + e.getMessage());
    }
    if (subject.getSubject() == null || subject.getSubject().isBlank()) {
      throw error(OAuth2ErrorCodes.INVALID_REQUEST, "the subject token has no sub");
    }
    Set<String> scopes = grantedScopes(request, registered, subject);

    // The issued token: SAS's token generator (its JWT customizers apply, this app's audience one
    // too), sub = the subject token's sub (impersonation semantics, RFC 8693 §1.1), recorded in
    // the authorization service like SAS's own exchanges (introspection and revocation find it).
    Authentication principal = new JwtAuthenticationToken(subject, List.of(), subject.getSubject());
    OAuth2TokenContext context = DefaultOAuth2TokenContext.builder()
        .registeredClient(registered)
        .principal(principal)
        .authorizationServerContext(AuthorizationServerContextHolder.getContext())
        .authorizedScopes(scopes)
        .tokenType(OAuth2TokenType.ACCESS_TOKEN)
        .authorizationGrantType(AuthorizationGrantType.TOKEN_EXCHANGE)
        .authorizationGrant(request)
        .build();
    OAuth2TokenGenerator<?> generator = tokens.get();
    OAuth2Token generated = generator == null ? null : generator.generate(context);
    if (generated == null) {
      throw error(OAuth2ErrorCodes.SERVER_ERROR, "the token generator produced no access token");
    }
    OAuth2AccessToken access = new OAuth2AccessToken(OAuth2AccessToken.TokenType.BEARER,
        generated.getTokenValue(), generated.getIssuedAt(), generated.getExpiresAt(), scopes);
    OAuth2Authorization.Builder authorization = OAuth2Authorization.withRegisteredClient(registered)
        .principalName(subject.getSubject())
        .authorizationGrantType(AuthorizationGrantType.TOKEN_EXCHANGE)
        .authorizedScopes(scopes)
        .attribute(Principal.class.getName(), principal);
    if (generated instanceof ClaimAccessor claims) {
      authorization.token(access, m -> m.put(OAuth2Authorization.Token.CLAIMS_METADATA_NAME, claims.getClaims()));
    } else {
      authorization.accessToken(access);
    }
    authorizations.save(authorization.build());
    // RFC 8693 §2.2.1: issued_token_type is required in the response.
    Map<String, Object> extra = Map.of(OAuth2ParameterNames.ISSUED_TOKEN_TYPE, request.getRequestedTokenType());
    return new OAuth2AccessTokenAuthenticationToken(registered, client, access, null, extra);
  }

  // RFC 8693 §2.1 scope: what the client asks for, at most what it is registered for and what
  // the subject token carries (an exchange never widens); none asked: the subject token's.
  private static Set<String> grantedScopes(
      OAuth2TokenExchangeAuthenticationToken request, RegisteredClient registered, Jwt subject) {
    Object claim = subject.getClaim("scope");  // RFC 8693 §4.2: a space-separated string (or a list)
    Stream<String> each = claim instanceof Collection<?> list ? list.stream().map(String::valueOf)
        : claim instanceof String line ? Stream.of(line.split(" ")) : Stream.empty();
    Set<String> held = each.filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    if (request.getScopes().isEmpty()) {
      return held.stream().filter(registered.getScopes()::contains).collect(Collectors.toSet());
    }
    if (!registered.getScopes().containsAll(request.getScopes()) || !held.containsAll(request.getScopes())) {
      throw error(OAuth2ErrorCodes.INVALID_SCOPE, "a requested scope is not held by the subject token or the client");
    }
    return request.getScopes();
  }

  // The issuer named in the token, unverified: only to tell whose token it is. Everything the
  // answer depends on is verified by the decoder.
  private static String unverifiedIssuer(String token) {
    try {
      return JWTParser.parse(token).getJWTClaimsSet().getIssuer();
    } catch (Exception e) {
      return null;
    }
  }

  // ES256 with the configured key only (alg none, HS256 with the public key as secret and any
  // other algorithm find no key); typ JWT, at+jwt (RFC 9068) or none; exp required, exp/nbf
  // with Spring's default 60 s skew; iss the external issuer; aud must name this AS (the token
  // was issued for it, RFC 8693 §2.1 leaves the subject token's validation to the AS's policy).
  private static JwtDecoder decoder(ECPublicKey key, String externalIssuer, String ownIssuer) {
    DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(new SingleKeyJWSKeySelector<>(JWSAlgorithm.ES256, key));
    processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(
        JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
    processor.setJWTClaimsSetVerifier((claims, context) -> {});  // the validators below check claims
    NimbusJwtDecoder decoder = new NimbusJwtDecoder(processor);
    decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(
        new JwtClaimValidator<Instant>(JwtClaimNames.EXP, Objects::nonNull),
        new JwtTimestampValidator(),
        new JwtIssuerValidator(externalIssuer),
        new JwtClaimValidator<List<String>>(JwtClaimNames.AUD, aud -> aud != null && aud.contains(ownIssuer))));
    return decoder;
  }

  private static ECPublicKey readP256PublicKey(Path pem) throws Exception {
    String b64 = Files.readString(pem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    KeyFactory kf = KeyFactory.getInstance("EC");
    ECPublicKey key = (ECPublicKey) kf.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(b64)));
    if (!Curve.P_256.equals(Curve.forECParameterSpec(key.getParams()))) {
      throw new IllegalArgumentException(pem + ": not an EC P-256 public key");
    }
    return key;
  }

  private static OAuth2AuthenticationException error(String code, String description) {
    return new OAuth2AuthenticationException(new OAuth2Error(code, description, null));
  }
}
