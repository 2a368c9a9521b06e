//! `#[openhost_plugin_api::middleware]`: declares which hooks a middleware implements, from the methods its
//! `impl Middleware for T` block writes (interface 1.6). The host calls only those, so a middleware that writes
//! only `on_request` (or `decide`) costs one call per request, not two.
//!
//! The attribute adds `const HOOKS` to the block: `request` if it writes `on_request` or `decide`, `response` if it
//! writes `on_response`. A block that sets `HOOKS` itself is left as written. Without the attribute a middleware
//! declares both hooks, as every plugin built before 1.6 does.
//!
//! Only `proc_macro` is used: the methods are the `fn NAME` pairs at the top level of the block's braces.

use proc_macro::{Delimiter, Group, Ident, TokenStream, TokenTree};

/// Declares the hooks an `impl Middleware for T` block implements. See the crate documentation.
#[proc_macro_attribute]
pub fn middleware(attribute: TokenStream, item: TokenStream) -> TokenStream {
    if !attribute.is_empty() {
        return compile_error("#[middleware] takes no arguments");
    }
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let is_trait_impl = tokens
        .iter()
        .any(|token| matches!(token, TokenTree::Ident(ident) if ident.to_string() == "for"));
    let body = match tokens.last() {
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace && is_trait_impl => group.clone(),
        _ => return compile_error("#[middleware] goes on an `impl Middleware for T { ... }` block"),
    };
    let Some(declared) = Declared::read(body.stream()) else {
        return tokens.into_iter().collect();
    };
    let constant: TokenStream = format!(
        "const HOOKS: ::openhost_plugin_api::MiddlewareHooks = ::openhost_plugin_api::MiddlewareHooks {{ \
         request: {}, response: {} }};",
        declared.request, declared.response
    )
    .parse()
    .unwrap_or_default();
    let mut stream = constant;
    stream.extend(body.stream());
    let mut with_hooks = Group::new(Delimiter::Brace, stream);
    with_hooks.set_span(body.span());
    if let Some(last) = tokens.last_mut() {
        *last = TokenTree::Group(with_hooks);
    }
    tokens.into_iter().collect()
}

/// The hooks a block writes; `None` when it sets `HOOKS` itself.
struct Declared {
    request: bool,
    response: bool,
}

impl Declared {
    fn read(body: TokenStream) -> Option<Declared> {
        let mut declared = Declared {
            request: false,
            response: false,
        };
        let mut previous: Option<Ident> = None;
        for token in body {
            let TokenTree::Ident(ident) = token else {
                previous = None;
                continue;
            };
            let name = ident.to_string();
            match previous.as_ref().map(Ident::to_string).as_deref() {
                Some("fn") if name == "on_request" || name == "decide" => declared.request = true,
                Some("fn") if name == "on_response" => declared.response = true,
                Some("const") if name == "HOOKS" => return None,
                _ => {}
            }
            previous = Some(ident);
        }
        Some(declared)
    }
}

fn compile_error(message: &str) -> TokenStream {
    format!("::core::compile_error!({message:?});")
        .parse()
        .unwrap_or_default()
}
