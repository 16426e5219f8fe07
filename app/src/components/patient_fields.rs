use leptos::prelude::*;

use crate::{
    components::{
        field_error::{error_id, message_for, FieldError, FieldErrors, RequiredMark},
        geo_select::GeoSelect,
    },
    model::{
        identifier::IdentifierConfig,
        patient_form::{PatientForm, BLOOD_GROUPS, GENDERS},
        Organization,
    },
};

/// The patient form's fields (registration and edit), with each field's error under it.
#[component]
pub fn PatientFields(
    /// The values being edited.
    form: RwSignal<PatientForm>,
    /// The chosen area (deepest govt organization).
    geo: RwSignal<Option<Organization>>,
    /// (field, message) pairs to show.
    errors: RwSignal<Vec<(String, String)>>,
    /// The identifiers the facility asks for (from its cached retrieve).
    #[prop(into)]
    identifiers: Signal<Vec<IdentifierConfig>>,
) -> impl IntoView {
    let field_errors = FieldErrors(errors);
    let invalid = move |field: &'static str| field_errors.invalid(field);
    let described = move |field: &'static str| field_errors.described(field);
    let error_for = move |field: &'static str| field_errors.message(field);
    let set = move |f: fn(&mut PatientForm, String)| {
        move |ev: leptos::ev::Event| form.update(|form| f(form, event_target_value(&ev)))
    };
    let changing_area = RwSignal::new(geo.get_untracked().is_none());
    view! {
                <div class="field">
                    <span class="field__head"><label class="field__label" for="patient-name">"Name"</label><RequiredMark/></span>
                    <input class="field__input" id="patient-name" name="name" required aria-required="true"
                        aria-invalid=invalid("name") aria-describedby=described("name")
                        prop:value=move || form.with(|f| f.name.clone()) on:input=set(|f, v| f.name = v)/>
                    {error_for("name")}
                </div>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="patient-phone">"Phone number"</label><RequiredMark/></span>
                    <input class="field__input" id="patient-phone" name="phone_number" type="tel" placeholder="+91…" required aria-required="true"
                        aria-invalid=invalid("phone_number") aria-describedby=described("phone_number")
                        prop:value=move || form.with(|f| f.phone_number.clone()) on:input=set(|f, v| f.phone_number = v)/>
                    {error_for("phone_number")}
                </div>
                <label class="field field--inline">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.same_emergency_phone)
                        on:change=move |ev| form.update(|f| f.same_emergency_phone = event_target_checked(&ev))/>
                    <span>"Emergency phone is the same"</span>
                </label>
                <Show when=move || !form.with(|f| f.same_emergency_phone)>
                    <div class="field">
                        <label class="field__label" for="patient-emergency-phone">"Emergency phone number"</label>
                        <input class="field__input" id="patient-emergency-phone" name="emergency_phone_number" type="tel"
                            aria-invalid=invalid("emergency_phone_number") aria-describedby=described("emergency_phone_number")
                            prop:value=move || form.with(|f| f.emergency_phone_number.clone()) on:input=set(|f, v| f.emergency_phone_number = v)/>
                    </div>
                </Show>
                {error_for("emergency_phone_number")}
                <fieldset class="field" aria-describedby=described("gender")>
                    <legend class="field__label">"Gender"<RequiredMark/></legend>
                    {GENDERS.iter().map(|(value, label)| view! {
                        <label class="choice">
                            <input type="radio" name="gender" value=*value required aria-invalid=invalid("gender")
                                prop:checked=move || form.with(|f| f.gender == *value) on:change=set(|f, v| f.gender = v)/>
                            {*label}
                        </label>
                    }).collect_view()}
                    {error_for("gender")}
                </fieldset>
                <fieldset class="field" aria-describedby=move || described("date_of_birth")().or_else(described("age"))>
                    <legend class="field__label">"Age or date of birth"<RequiredMark/></legend>
                    <label class="choice"><input type="radio" name="age_or_dob" value="dob" checked on:change=set(|f, v| f.age_or_dob = v)/>"Date of birth"</label>
                    <label class="choice"><input type="radio" name="age_or_dob" value="age" on:change=set(|f, v| f.age_or_dob = v)/>"Age"</label>
                    <Show when=move || form.with(|f| f.age_or_dob == "age")
                        fallback=move || view! {
                            <input class="field__input" name="date_of_birth" type="date" aria-label="Date of birth" required aria-required="true"
                                aria-invalid=invalid("date_of_birth") aria-describedby=described("date_of_birth")
                                prop:value=move || form.with(|f| f.date_of_birth.clone()) on:input=set(|f, v| f.date_of_birth = v)/>
                        }>
                        <input class="field__input" name="age" type="number" min="1" max="120" aria-label="Age in years" required aria-required="true"
                            aria-invalid=invalid("age") aria-describedby=described("age")
                            prop:value=move || form.with(|f| f.age.clone()) on:input=set(|f, v| f.age = v)/>
                    </Show>
                    {error_for("date_of_birth")}
                    {error_for("age")}
                </fieldset>
                <div class="field">
                    <label class="field__label" for="patient-blood-group">"Blood group"</label>
                    <select class="field__input" id="patient-blood-group" name="blood_group"
                        aria-invalid=invalid("blood_group") aria-describedby=described("blood_group")
                        on:change=set(|f, v| f.blood_group = v)>
                        <option value="">"Not known"</option>
                        {BLOOD_GROUPS.iter().map(|(v, l)| view! { <option value=*v selected=move || form.with(|f| f.blood_group == *v)>{*l}</option> }).collect_view()}
                    </select>
                    {error_for("blood_group")}
                </div>
                <div class="field">
                    <span class="field__head"><label class="field__label" for="patient-address">"Address"</label><RequiredMark/></span>
                    <textarea class="field__input" id="patient-address" name="address" required aria-required="true"
                        aria-invalid=invalid("address") aria-describedby=move || {
                            let ids: Vec<String> = described("address")().into_iter()
                                .chain(form.with(|f| f.same_permanent_address).then(|| "patient-address-same".to_string()))
                                .collect();
                            (!ids.is_empty()).then(|| ids.join(" "))
                        }
                        prop:value=move || form.with(|f| f.address.clone()) on:input=set(|f, v| f.address = v)></textarea>
                    <Show when=move || form.with(|f| f.same_permanent_address)>
                        <span class="field__hint" id="patient-address-same" data-testid="address-same-note">
                            "Also the permanent address (“Permanent address is the same” is ticked)."
                        </span>
                    </Show>
                    {error_for("address")}
                </div>
                <label class="field field--inline">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.same_permanent_address)
                        on:change=move |ev| form.update(|f| f.same_permanent_address = event_target_checked(&ev))/>
                    <span>"Permanent address is the same"</span>
                </label>
                <Show when=move || !form.with(|f| f.same_permanent_address)>
                    <div class="field">
                        <span class="field__head"><label class="field__label" for="patient-permanent-address">"Permanent address"</label><RequiredMark/></span>
                        <textarea class="field__input" id="patient-permanent-address" name="permanent_address" required aria-required="true"
                            aria-invalid=invalid("permanent_address") aria-describedby=described("permanent_address")
                            prop:value=move || form.with(|f| f.permanent_address.clone()) on:input=set(|f, v| f.permanent_address = v)></textarea>
                    </div>
                </Show>
                {error_for("permanent_address")}
                <Show when=move || changing_area.get() fallback=move || view! {
                    <p class="field">
                        <span class="field__label">"Area"</span>
                        <span data-testid="current-area">{move || geo.get().map(|g| g.name).unwrap_or_default()}</span>
                        <button type="button" class="button" on:click=move |_| changing_area.set(true)>"Change area"</button>
                    </p>
                }>
                    <GeoSelect selected=geo/>
                </Show>
                {error_for("geo_organization")}
                <div class="field">
                    <label class="field__label" for="patient-pincode">"Pincode"</label>
                    <input class="field__input" id="patient-pincode" name="pincode" inputmode="numeric"
                        aria-invalid=invalid("pincode") aria-describedby=described("pincode")
                        prop:value=move || form.with(|f| f.pincode.clone()) on:input=set(|f, v| f.pincode = v)/>
                    {error_for("pincode")}
                </div>
                <For each=move || identifiers.get() key=|c| c.id.clone() let:config>
                    <IdentifierField config=config form=form errors=errors/>
                </For>
    }
}

/// One identifier the facility asks for (an ABHA number, a hospital number…).
#[component]
fn IdentifierField(
    config: IdentifierConfig,
    form: RwSignal<PatientForm>,
    errors: RwSignal<Vec<(String, String)>>,
) -> impl IntoView {
    let id = config.id.clone();
    let field = config.field();
    let label = if config.needs_value() {
        config.label().to_string()
    } else {
        format!("{} (optional)", config.label())
    };
    let hint = Some(config.config.description.trim().to_string()).filter(|d| !d.is_empty());
    let value = {
        let id = id.clone();
        move || form.with(|f| f.identifiers.get(&id).cloned().unwrap_or_default())
    };
    let on_input = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        form.update(|f| {
            f.identifiers.insert(id.clone(), v);
        });
    };
    let input_id = format!("identifier-{}", config.id);
    let invalid = {
        let field = field.clone();
        move || {
            errors
                .with(|e| message_for(e, &field).is_some())
                .to_string()
        }
    };
    let described = {
        let field = field.clone();
        move || errors.with(|e| message_for(e, &field).map(|_| error_id(&field)))
    };
    let required = config.needs_value();
    view! {
        <div class="field">
            <span class="field__head">
                <label class="field__label" for=input_id.clone()>{label.clone()}</label>
                {required.then(|| view! { <RequiredMark/> })}
            </span>
            <input class="field__input" id=input_id name=format!("identifier-{}", config.id)
                required=required aria-required=required.to_string()
                aria-invalid=invalid aria-describedby=described
                prop:value=value on:input=on_input/>
            {hint.map(|h| view! { <span class="field__hint">{h}</span> })}
            <FieldError errors=Signal::derive(move || errors.get()) field=field.clone()/>
        </div>
    }
}
