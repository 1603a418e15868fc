import Testing
@Test func placeholderHTTPServerKitTests() {}
