// Spring Authorization Server configured for txlab's conformance run: three confidential
// clients (a subject-token issuer, an exchanger with the token-exchange grant, a reader without
// it), JWT access tokens signed with an RS256 key read from a PEM file txlab also holds, and the
// issuer and port from the command line; optionally (--txlab.external-issuer) the exchange of
// another issuer's JWTs (ExternalSubjectTokenExchange). Nothing here is test logic: the suite
// judges it.
package dev.txlab.sas;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.core.annotation.Order;
import org.springframework.security.config.Customizer;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.server.authorization.InMemoryOAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2Authorization;
import org.springframework.security.oauth2.server.authorization.OAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configurers.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2ClientCredentialsAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.authentication.OAuth2TokenExchangeAuthenticationToken;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenGenerator;
import org.springframework.security.web.SecurityFilterChain;

@SpringBootApplication
public class TxlabSpringAs {
  public static void main(String[] args) {
    SpringApplication.run(TxlabSpringAs.class, args);
  }

  @Bean
  @Order(1)
  SecurityFilterChain authorizationServer(HttpSecurity http,
      @Value("${txlab.external-issuer:}") String externalIssuer, @Value("${txlab.external-key:}") String externalKey,
      AuthorizationServerSettings settings, OAuth2AuthorizationService authorizations) throws Exception {
    OAuth2AuthorizationServerConfigurer as = OAuth2AuthorizationServerConfigurer.authorizationServer();
    // Off by default: with --txlab.external-issuer=URL --txlab.external-key=PEM (the issuer's EC
    // P-256 public key) SAS also exchanges that issuer's JWTs, after its own providers (see
    // ExternalSubjectTokenExchange). It issues through the token generator SAS's token endpoint
    // uses (with SAS's default customizers: DPoP and certificate binding, act), not a copy.
    if (!externalIssuer.isBlank() && externalKey.isBlank()) {
      throw new IllegalStateException("--txlab.external-issuer needs --txlab.external-key=PEM");
    }
    AuthenticationProvider external = externalIssuer.isBlank() ? null
        : new ExternalSubjectTokenExchange(externalIssuer, Path.of(externalKey), settings.getIssuer(),
            authorizations, () -> http.getSharedObject(OAuth2TokenGenerator.class));
    http.securityMatcher(as.getEndpointsMatcher())
        .with(as, c -> c.oidc(Customizer.withDefaults())
            .tokenEndpoint(t -> t.authenticationProviders(providers -> {
              if (external != null) providers.add(external);
            })))
        .authorizeHttpRequests(a -> a.anyRequest().authenticated())
        .csrf(c -> c.ignoringRequestMatchers(as.getEndpointsMatcher()));
    return http.build();
  }

  private static RegisteredClient.Builder confidential(String id, String secret) {
    return RegisteredClient.withId(id)
        .clientId(id)
        .clientSecret("{noop}" + secret)
        .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
        .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
        .tokenSettings(TokenSettings.builder().accessTokenTimeToLive(Duration.ofMinutes(5)).build());
  }

  @Bean
  RegisteredClientRepository clients() {
    RegisteredClient subject = confidential("subject-client", "subject-secret")
        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
        .scope("orders.read").scope("orders.write").build();
    RegisteredClient exchanger = confidential("requester-client", "requester-secret")
        .authorizationGrantType(AuthorizationGrantType.TOKEN_EXCHANGE)
        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
        .scope("orders.read").scope("orders.write").build();
    RegisteredClient reader = confidential("reader-client", "reader-secret")
        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
        .scope("orders.read").build();
    // The chain's clients (scenarios/vendors/spring-direct.yaml).
    RegisteredClient cfa = confidential("svc-cfa", "cfa-secret")
        .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
        .scope("orders.read").build();
    RegisteredClient gateway = confidential("gateway-c2p", "gw-c2p-secret")
        .authorizationGrantType(AuthorizationGrantType.TOKEN_EXCHANGE)
        .scope("orders.read").build();
    // The broker topology's back-channel client (scenarios/vendors/spring-broker.yaml): AS-C2P
    // exchanges its own tokens here (--txlab.external-issuer).
    RegisteredClient broker = confidential("c2p-svc-broker-to-c2pe", "broker-secret")
        .authorizationGrantType(AuthorizationGrantType.TOKEN_EXCHANGE)
        .scope("orders.read").build();
    return new InMemoryRegisteredClientRepository(subject, exchanger, reader, cfa, gateway, broker);
  }

  // The audiences each chain client may request (scenarios/vendors/spring-direct.yaml and
  // spring-broker.yaml).
  private static final Map<String, List<String>> AUDIENCES = Map.of(
      "svc-cfa", List.of("gateway-c2p"),
      "gateway-c2p", List.of("gateway-c2pe", "pba"),
      "c2p-svc-broker-to-c2pe", List.of("gateway-c2pe", "pba"));

  // Off by default (the conformance run grades Spring Authorization Server as it ships: it
  // ignores `audience`). With --txlab.audience-from-request=true the requested audiences become
  // the token's aud, as a deployment that routes by audience configures it (the chain needs it),
  // and an audience not registered for the client is refused with invalid_target (RFC 8693
  // §2.2.2) — without that check a leaked exchanger secret reaches any audience, which txlab
  // attack's leak/other-audience shows: --txlab.audience-unchecked=true leaves the check out.
  @Bean
  OAuth2TokenCustomizer<JwtEncodingContext> audienceFromRequest(
      @Value("${txlab.audience-from-request:false}") boolean on,
      @Value("${txlab.audience-unchecked:false}") boolean unchecked) {
    return context -> {
      if (!on) return;
      List<String> aud = new ArrayList<>();
      Object grant = context.getAuthorizationGrant();
      if (grant instanceof OAuth2TokenExchangeAuthenticationToken exchange) {
        aud.addAll(exchange.getAudiences());
      } else if (grant instanceof OAuth2ClientCredentialsAuthenticationToken cc) {
        Object requested = cc.getAdditionalParameters().get("audience");
        if (requested instanceof String one) aud.add(one);
        if (requested instanceof Collection<?> many) many.forEach(a -> aud.add(String.valueOf(a)));
      }
      List<String> allowed = AUDIENCES.getOrDefault(context.getRegisteredClient().getClientId(), List.of());
      if (!unchecked && !allowed.containsAll(aud)) {
        throw new OAuth2AuthenticationException(
            new OAuth2Error("invalid_target", "an audience is not registered for this client", null));
      }
      if (!aud.isEmpty()) context.getClaims().audience(aud);
    };
  }

  // Spring Authorization Server exchanges only tokens whose authorization records a principal
  // (RFC 8693 §1.1 needs a subject); client_credentials records none. This deployment lets a
  // service account's token be a subject token: its authorization records the client as the
  // principal. (A user's token from authorization_code needs nothing of the kind.)
  @Bean
  OAuth2AuthorizationService authorizations() {
    InMemoryOAuth2AuthorizationService store = new InMemoryOAuth2AuthorizationService();
    return new OAuth2AuthorizationService() {
      @Override
      public void save(OAuth2Authorization authorization) {
        if (authorization.getAttribute(Principal.class.getName()) == null
            && AuthorizationGrantType.CLIENT_CREDENTIALS.equals(authorization.getAuthorizationGrantType())) {
          authorization = OAuth2Authorization.from(authorization)
              .attribute(Principal.class.getName(),
                  new UsernamePasswordAuthenticationToken(authorization.getPrincipalName(), null, List.of()))
              .build();
        }
        store.save(authorization);
      }

      @Override
      public void remove(OAuth2Authorization authorization) {
        store.remove(authorization);
      }

      @Override
      public OAuth2Authorization findById(String id) {
        return store.findById(id);
      }

      @Override
      public OAuth2Authorization findByToken(String token, OAuth2TokenType tokenType) {
        return store.findByToken(token, tokenType);
      }
    };
  }

  @Bean
  JWKSource<SecurityContext> keys(@Value("${txlab.signing-key}") String pemFile) throws Exception {
    String pem = Files.readString(Path.of(pemFile));
    String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    KeyFactory kf = KeyFactory.getInstance("RSA");
    RSAPrivateCrtKey priv =
        (RSAPrivateCrtKey) kf.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
    RSAPublicKey pub = (RSAPublicKey) kf.generatePublic(
        new RSAPublicKeySpec(priv.getModulus(), priv.getPublicExponent()));
    RSAKey jwk = new RSAKey.Builder(pub).privateKey(priv).keyIDFromThumbprint().build();
    return new ImmutableJWKSet<>(new JWKSet(jwk));
  }

  @Bean
  AuthorizationServerSettings settings(@Value("${txlab.issuer}") String issuer) {
    return AuthorizationServerSettings.builder().issuer(issuer).build();
  }
}
