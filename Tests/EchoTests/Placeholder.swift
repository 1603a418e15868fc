import Testing
@Test func placeholderEchoTests() {}
